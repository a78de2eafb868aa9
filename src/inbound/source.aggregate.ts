import type { IEvent } from '@nestjs/cqrs';
import { activeSecrets, rotateSecrets as rotateSharedSecrets } from '../contracts/secret-rotation';
import type { Aggregate } from '../cqrs/aggregate-store';
import {
  SourceNameClaimed,
  SourceNameReleased,
  SourceRegistered,
  SourceRemoved,
  SourceSecretRotated,
  SourceUpdated,
  type SourceSettings,
  sourceStream,
} from './events/source.events';

export { sourceStream };
export const sourceNameStream = (name: string) => `sourceName-${name}`;

/** Lower-case letters and digits first, then also `.`, `_` and `-`: safe in a URL path, a stream name and a metric label. */
// `queue` is reserved: GET /api/webhooks/queue/:queue_id is the queue lookup, and the router matches that static
// segment first, so a source named so could never have its GET /api/webhooks/queue/rejected answered.
export const SOURCE_NAME = /^(?!queue$)[a-z0-9][a-z0-9._-]{0,62}$/;

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

/** After a rotation: the shared rule (src/contracts/secret-rotation.ts), the new secret recorded as created. */
export function rotateSecrets(secrets: readonly SourceSecretState[], event: SourceSecretRotated): SourceSecretState[] {
  return rotateSharedSecrets(secrets, { ...event.secret, expiresAt: null }, event.secret.createdAt, event.previousExpireAt);
}

export { activeSecrets };

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
