import type { IEvent } from '@nestjs/cqrs';
import type { Aggregate } from '../cqrs/aggregate-store';
import { OrganisationCreated } from '../organisations/events/organisation.events';
import { TriageSettingsChanged } from './events/triage-settings.events';
import type { TriageSettingsDocument } from './triage-settings';

/**
 * The organisation's stream as triage reads it: whether the organisation exists, and its own triage
 * settings (null until the first edit). The stream is the organisation capability's (`organisation-<id>`,
 * named the same way here); this fold only reads the events it knows, so both share one stream and its
 * optimistic concurrency.
 */
export const organisationSettingsStream = (organisationId: string) => `organisation-${organisationId}`;

export interface TriageSettingsState {
  exists: boolean;
  settings: TriageSettingsDocument | null;
  changedAt: string | null;
}

export const OrganisationTriageSettings: Aggregate<TriageSettingsState> = {
  initial: () => ({ exists: false, settings: null, changedAt: null }),
  evolve(state: TriageSettingsState, event: IEvent): TriageSettingsState {
    if (event instanceof OrganisationCreated) return { ...state, exists: true };
    if (event instanceof TriageSettingsChanged) return { ...state, settings: event.settings, changedAt: event.changedAt };
    return state;
  },
};
