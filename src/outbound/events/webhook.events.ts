import type { IEvent } from '@nestjs/cqrs';
import { DomainEvent } from '../../cqrs/domain-event';
import type { Severity } from '../../contracts/alert';
import type { RateLimit } from '../webhook-rate-limit';
import type { AttemptRecord } from './delivery.events';

/**
 * Stream `webhooks-<organisationId>`: all the webhooks of one organisation. One stream per organisation makes
 * the limit of 10 race-free: every creation is appended with the revision its count was read at, so two
 * concurrent creations cannot both take the last place.
 */
export const webhooksStream = (organisationId: string) => `webhooks-${organisationId}`;

export const WEBHOOK_FORMATS = ['envelope', 'splunk_hec', 'slack', 'teams'] as const;
export type WebhookFormat = (typeof WEBHOOK_FORMATS)[number];

/** Every setting, always whole, so that each event tells the full truth without earlier ones. */
export interface WebhookSettings {
  /** The URL, sealed: for Slack, Teams / Power Automate workflows, Discord or a signed query it is the credential. */
  sealedUrl: string;
  /** What may be shown of it (webhook-url-display.ts): no query values, no secret path segments. */
  displayUrl: string;
  format: WebhookFormat;
  /** null: every event type. */
  eventTypes: string[] | null;
  /** null: every event, with or without a project; a list: only events of those projects. */
  projectIds: string[] | null;
  /** Extra request headers, sealed as one JSON object (they may carry tokens: `Authorization: Splunk …`). */
  sealedHeaders: string | null;
  /** Their names, for display. */
  headerNames: string[];
  description: string | null;
  enabled: boolean;
  /** Attempts per second or minute; null: unpaced; absent (never set): the format's default (webhook-rate-limit.ts). */
  rateLimit?: RateLimit | null;
  /** Only events at least this severe; null: every one; absent (never set): the format's default. */
  minSeverity?: Severity | null;
}

/** A signing secret as events hold it: only ever sealed, bound to its webhook and its own id. */
export interface SealedWebhookSecret {
  id: string;
  sealed: string;
  createdAt: string;
}

@DomainEvent('WebhookCreated')
export class WebhookCreated implements IEvent {
  constructor(
    readonly organisationId: string,
    readonly webhookId: string,
    readonly settings: WebhookSettings,
    readonly secret: SealedWebhookSecret,
    readonly createdAt: string,
  ) {}
}

@DomainEvent('WebhookUpdated')
export class WebhookUpdated implements IEvent {
  constructor(
    readonly organisationId: string,
    readonly webhookId: string,
    readonly settings: WebhookSettings,
    readonly changed: string[],
    readonly updatedAt: string,
  ) {}
}

/** The new secret signs at once; older ones keep signing beside it until `previousExpireAt`. */
@DomainEvent('WebhookSecretRotated')
export class WebhookSecretRotated implements IEvent {
  constructor(
    readonly organisationId: string,
    readonly webhookId: string,
    readonly secret: SealedWebhookSecret,
    readonly previousExpireAt: string,
    readonly rotatedAt: string,
  ) {}
}

/**
 * Disabled by Towline itself: the receiver answered 410 Gone (`gone`), or every attempt failed for
 * TW_WEBHOOK_AUTO_DISABLE (`failing`). Re-enabled by a PATCH with enabled: true.
 */
@DomainEvent('WebhookDisabled')
export class WebhookDisabled implements IEvent {
  constructor(
    readonly organisationId: string,
    readonly webhookId: string,
    readonly reason: 'gone' | 'failing',
    readonly deliveryId: string,
    readonly disabledAt: string,
  ) {}
}

@DomainEvent('WebhookDeleted')
export class WebhookDeleted implements IEvent {
  constructor(
    readonly organisationId: string,
    readonly webhookId: string,
    readonly deletedAt: string,
  ) {}
}

/** Stream `webhookTest-<webhookId>`: test sends (POST …/test), kept apart from real deliveries. */
export const webhookTestStream = (webhookId: string) => `webhookTest-${webhookId}`;

@DomainEvent('WebhookTestSent')
export class WebhookTestSent implements IEvent {
  constructor(
    readonly organisationId: string,
    readonly webhookId: string,
    readonly testId: string,
    readonly eventType: string,
    readonly attempt: AttemptRecord,
  ) {}
}
