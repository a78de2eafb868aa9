import type { IEvent } from '@nestjs/cqrs';
import type { Aggregate } from '../cqrs/aggregate-store';
import { ApiKeyIssued, ApiKeyRevoked, OrganisationCreated, ProjectCreated } from './events/organisation.events';

export const organisationStream = (organisationId: string) => `organisation-${organisationId}`;

export interface OrganisationState {
  exists: boolean;
  name: string;
  /** lower-cased project name → project id */
  projectsByName: Map<string, string>;
  keys: Map<string, { revoked: boolean }>;
}

export const Organisation: Aggregate<OrganisationState> = {
  initial: () => ({ exists: false, name: '', projectsByName: new Map(), keys: new Map() }),
  evolve(state: OrganisationState, event: IEvent): OrganisationState {
    if (event instanceof OrganisationCreated) return { ...state, exists: true, name: event.name };
    if (event instanceof ProjectCreated) {
      return { ...state, projectsByName: new Map(state.projectsByName).set(event.name.toLowerCase(), event.projectId) };
    }
    if (event instanceof ApiKeyIssued) return { ...state, keys: new Map(state.keys).set(event.keyId, { revoked: false }) };
    if (event instanceof ApiKeyRevoked) return { ...state, keys: new Map(state.keys).set(event.keyId, { revoked: true }) };
    return state;
  },
};
