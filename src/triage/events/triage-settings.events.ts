import type { IEvent } from '@nestjs/cqrs';
import { DomainEvent } from '../../cqrs/domain-event';
import type { Criticality } from '../playbook-settings';
import type { EntryList, TriageSettingsDocument } from '../triage-settings';

export type TriageSettingsChange =
  | { kind: 'replace' }
  | { kind: 'add' | 'remove'; list: EntryList; value: string; criticality?: Criticality };

/**
 * On the organisation's stream (`organisation-<id>`): its triage settings after an explicit edit through the
 * API or tw-cli. `settings` is the whole document after the change (absolute, so a reader needs only the
 * latest), `change` what was asked for. Only edits are recorded — what is learned from alerts is a projection.
 */
@DomainEvent('TriageSettingsChanged')
export class TriageSettingsChanged implements IEvent {
  constructor(
    readonly organisationId: string,
    readonly settings: TriageSettingsDocument,
    readonly change: TriageSettingsChange,
    readonly changedAt: string,
  ) {}
}
