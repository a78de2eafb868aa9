import type { IEvent } from '@nestjs/cqrs';
import type { Aggregate } from '../cqrs/aggregate-store';
import {
  SourceNameClaimed,
  SourceNameReleased,
  SourceRegistered,
  SourceRemoved,
  SourceSecretRotated,
  SourceUpdated,
  type SourceSettings,
} from './events/source.events';

export const sourceStream = (organisationId: string, name: string) => `source-${organisationId}.${name}`;
export const sourceNameStream = (name: string) => `sourceName-${name}`;

/** Lower-case letters and digits first, then also `.`, `_` and `-`: safe in a URL path, a stream name and a metric label. */
export const SOURCE_NAME = /^[a-z0-9][a-z0-9._-]{0,62}$/;

export interface SourceSecretState {
  id: string;
  sealed: string;
  createdAt: string;
  /** null: verifies until a rotation gives it an expiry. */
  expiresAt: string | null;
}

export interface SourceState {
  exists: boolean;
  settings: SourceSettings | null;
  /** Oldest first; secrets that had expired by a later rotation are dropped. */
  secrets: SourceSecretState[];
  createdAt: string | null;
}

export const Source: Aggregate<SourceState> = {
  initial: () => ({ exists: false, settings: null, secrets: [], createdAt: null }),
  evolve(state: SourceState, event: IEvent): SourceState {
    if (event instanceof SourceRegistered) {
      return { exists: true, settings: event.settings, secrets: [{ ...event.secret, expiresAt: null }], createdAt: event.secret.createdAt };
    }
    if (event instanceof SourceUpdated) return { ...state, settings: event.settings };
    if (event instanceof SourceSecretRotated) return { ...state, secrets: rotateSecrets(state.secrets, event) };
    if (event instanceof SourceRemoved) return Source.initial();
    return state;
  },
};

/** After a rotation: older secrets expire at the end of the grace period (or earlier, if due), the new one never. */
export function rotateSecrets(secrets: readonly SourceSecretState[], event: SourceSecretRotated): SourceSecretState[] {
  // Applying the same rotation twice (a redelivered event) changes nothing.
  if (secrets.some((s) => s.id === event.secret.id)) return [...secrets];
  const rotatedAt = event.secret.createdAt;
  const previous = secrets
    .map((s) => ({ ...s, expiresAt: s.expiresAt !== null && s.expiresAt < event.previousExpireAt ? s.expiresAt : event.previousExpireAt }))
    // ISO-8601 UTC strings of one format compare in time order.
    .filter((s) => s.expiresAt > rotatedAt);
  return [...previous, { ...event.secret, expiresAt: null }];
}

/** The secrets that verify at `nowMs`: the current one, and older ones inside their grace period. */
export function activeSecrets<T extends { expiresAt: string | null }>(secrets: readonly T[], nowMs: number): T[] {
  return secrets.filter((s) => s.expiresAt === null || Date.parse(s.expiresAt) > nowMs);
}

export interface SourceNameState {
  /** The organisation whose source holds the name, or null when it is free. */
  owner: string | null;
}

export const SourceName: Aggregate<SourceNameState> = {
  initial: () => ({ owner: null }),
  evolve(state: SourceNameState, event: IEvent): SourceNameState {
    if (event instanceof SourceNameClaimed) return { owner: event.organisationId };
    if (event instanceof SourceNameReleased) return { owner: null };
    return state;
  },
};
