import type { ICommand } from '@nestjs/cqrs';
import type { Severity } from '../../contracts/alert';
import type { WebhookFormat } from '../events/webhook.events';
import type { RateLimit } from '../webhook-rate-limit';

/** Settings as the API takes them, already checked (URL by the SSRF guard, projects against the organisation). */
export interface WebhookInput {
  url: string;
  format: WebhookFormat;
  eventTypes: string[] | null;
  projectIds: string[] | null;
  headers: Record<string, string>;
  description: string | null;
  enabled: boolean;
  /** Absent: the format's default (kept absent in the settings, so it follows the format). */
  rateLimit?: RateLimit | null;
  minSeverity?: Severity | null;
}

/** The secret arrives in clear and is sealed by the handler, before it reaches any event. */
export class CreateWebhook implements ICommand {
  constructor(
    readonly organisationId: string,
    readonly webhookId: string,
    readonly input: WebhookInput,
    readonly secretId: string,
    readonly secret: string,
  ) {}
}

/** Only the fields given change; `headers` given replaces all headers. */
export class UpdateWebhook implements ICommand {
  constructor(
    readonly organisationId: string,
    readonly webhookId: string,
    readonly changes: Partial<WebhookInput>,
  ) {}
}

export class RotateWebhookSecret implements ICommand {
  constructor(
    readonly organisationId: string,
    readonly webhookId: string,
    readonly secretId: string,
    readonly secret: string,
    /** The previous secrets stop signing then (or earlier, if they already were to). */
    readonly previousExpireAt: string,
  ) {}
}

export class DeleteWebhook implements ICommand {
  constructor(
    readonly organisationId: string,
    readonly webhookId: string,
  ) {}
}

/** Towline's own decision: the receiver answered 410 Gone to this delivery, or has failed continuously. */
export class DisableGoneWebhook implements ICommand {
  constructor(
    readonly organisationId: string,
    readonly webhookId: string,
    readonly deliveryId: string,
    readonly reason: 'gone' | 'failing' = 'gone',
  ) {}
}
