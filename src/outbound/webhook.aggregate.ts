import type { IEvent } from '@nestjs/cqrs';
import { activeSecrets, rotateSecrets } from '../contracts/secret-rotation';
import type { Aggregate } from '../cqrs/aggregate-store';
import {
  WebhookCreated,
  WebhookDeleted,
  WebhookDisabled,
  WebhookSecretRotated,
  WebhookUpdated,
  type SealedWebhookSecret,
  type WebhookSettings,
} from './events/webhook.events';

/** The seed's limit. */
export const MAX_WEBHOOKS_PER_ORGANISATION = 10;

export interface WebhookSecretState extends SealedWebhookSecret {
  /** null: the current secret; else it stops signing at this time. */
  expiresAt: string | null;
}

export interface WebhookState {
  settings: WebhookSettings;
  /** Oldest first; the last one is the current secret. */
  secrets: WebhookSecretState[];
  disabledReason: string | null;
}

export interface WebhooksState {
  webhooks: Map<string, WebhookState>;
}

/** The secrets that sign at `now`, newest first (the shared expiry rule: src/contracts/secret-rotation.ts). */
export function liveSecrets<S extends { expiresAt: string | null; createdAt: string }>(secrets: readonly S[], now: Date): S[] {
  return activeSecrets(secrets, now.getTime()).reverse();
}

export const Webhooks: Aggregate<WebhooksState> = {
  initial: () => ({ webhooks: new Map() }),
  evolve(state: WebhooksState, event: IEvent): WebhooksState {
    const webhooks = new Map(state.webhooks);
    if (event instanceof WebhookCreated) {
      webhooks.set(event.webhookId, { settings: event.settings, secrets: [{ ...event.secret, expiresAt: null }], disabledReason: null });
    } else if (event instanceof WebhookUpdated) {
      const current = webhooks.get(event.webhookId);
      if (current) webhooks.set(event.webhookId, { ...current, settings: event.settings, disabledReason: event.settings.enabled ? null : current.disabledReason });
    } else if (event instanceof WebhookSecretRotated) {
      const current = webhooks.get(event.webhookId);
      if (current) {
        const secrets = rotateSecrets(current.secrets, { ...event.secret, expiresAt: null }, event.rotatedAt, event.previousExpireAt);
        webhooks.set(event.webhookId, { ...current, secrets });
      }
    } else if (event instanceof WebhookDisabled) {
      const current = webhooks.get(event.webhookId);
      if (current) webhooks.set(event.webhookId, { ...current, settings: { ...current.settings, enabled: false }, disabledReason: event.reason });
    } else if (event instanceof WebhookDeleted) {
      webhooks.delete(event.webhookId);
    } else {
      return state;
    }
    return { webhooks };
  },
};
