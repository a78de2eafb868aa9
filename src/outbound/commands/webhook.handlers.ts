import { Inject } from '@nestjs/common';
import { CommandHandler, type ICommandHandler } from '@nestjs/cqrs';
import { SECRET_BOX, type SecretBox } from '../../config/secret-box';
import { AggregateStore } from '../../cqrs/aggregate-store';
import { sameJson } from '../../event-store/hash-chain';
import { conflict, notFound } from '../../http/app-error';
import {
  WebhookCreated,
  WebhookDeleted,
  WebhookDisabled,
  WebhookSecretRotated,
  WebhookUpdated,
  webhooksStream,
  type WebhookSettings,
} from '../events/webhook.events';
import { MAX_WEBHOOKS_PER_ORGANISATION, Webhooks, type WebhookState, type WebhooksState } from '../webhook.aggregate';
import { openWebhookUrl, sealHeaders, sealWebhookSecret, sealWebhookUrl } from '../webhook-secrets';
import { webhookUrlDisplay } from '../webhook-url-display';
import { CreateWebhook, DeleteWebhook, DisableGoneWebhook, RotateWebhookSecret, UpdateWebhook, type WebhookInput } from './webhook.commands';


const webhookNotFound = () => notFound('Webhook not found');

function existing(state: WebhooksState, webhookId: string): WebhookState {
  const webhook = state.webhooks.get(webhookId);
  if (!webhook) throw webhookNotFound();
  return webhook;
}

/** The URL only ever reaches an event sealed, beside its display form. */
function urlOf(box: SecretBox, stream: string, webhookId: string, url: string): Pick<WebhookSettings, 'sealedUrl' | 'displayUrl'> {
  return { sealedUrl: sealWebhookUrl(box, stream, webhookId, url), displayUrl: webhookUrlDisplay(url) };
}

function settingsOf(box: SecretBox, stream: string, webhookId: string, input: WebhookInput): WebhookSettings {
  return {
    ...urlOf(box, stream, webhookId, input.url),
    format: input.format,
    eventTypes: input.eventTypes,
    projectIds: input.projectIds,
    sealedHeaders: sealHeaders(box, stream, webhookId, input.headers),
    headerNames: Object.keys(input.headers),
    description: input.description,
    enabled: input.enabled,
    // Left out unless given: an absent value follows the format's default, also after a change of format.
    ...(input.rateLimit !== undefined && { rateLimit: input.rateLimit }),
    ...(input.minSeverity !== undefined && { minSeverity: input.minSeverity }),
  };
}

@CommandHandler(CreateWebhook)
export class CreateWebhookHandler implements ICommandHandler<CreateWebhook, void> {
  constructor(
    private readonly aggregates: AggregateStore,
    @Inject(SECRET_BOX) private readonly box: SecretBox,
  ) {}

  async execute({ organisationId, webhookId, input, secretId, secret }: CreateWebhook): Promise<void> {
    const stream = webhooksStream(organisationId);
    const createdAt = new Date().toISOString();
    const settings = settingsOf(this.box, stream, webhookId, input);
    const sealed = sealWebhookSecret(this.box, stream, webhookId, secretId, secret, createdAt);
    // The count is read from the stream and the event appended at the revision it was read at: a concurrent
    // creation makes the append conflict, and the retry counts again.
    await this.aggregates.execute(stream, Webhooks, (state) => {
      if (state.webhooks.has(webhookId)) return [];
      if (state.webhooks.size >= MAX_WEBHOOKS_PER_ORGANISATION) {
        throw conflict(`An organisation has at most ${MAX_WEBHOOKS_PER_ORGANISATION} webhooks`, 'webhook_limit_reached');
      }
      return [new WebhookCreated(organisationId, webhookId, settings, sealed, createdAt)];
    });
  }
}

@CommandHandler(UpdateWebhook)
export class UpdateWebhookHandler implements ICommandHandler<UpdateWebhook, void> {
  constructor(
    private readonly aggregates: AggregateStore,
    @Inject(SECRET_BOX) private readonly box: SecretBox,
  ) {}

  async execute({ organisationId, webhookId, changes }: UpdateWebhook): Promise<void> {
    const stream = webhooksStream(organisationId);
    const headers = changes.headers && sealHeaders(this.box, stream, webhookId, changes.headers);
    const url = changes.url !== undefined ? urlOf(this.box, stream, webhookId, changes.url) : undefined;
    await this.aggregates.execute(stream, Webhooks, (state) => {
      const current = existing(state, webhookId).settings;
      // The same URL given again keeps its sealed form (a new seal never equals the old one): nothing changes.
      const urlChanged = url !== undefined && openWebhookUrl(this.box, stream, webhookId, current.sealedUrl) !== changes.url;
      const next: WebhookSettings = {
        sealedUrl: urlChanged ? url.sealedUrl : current.sealedUrl,
        displayUrl: urlChanged ? url.displayUrl : current.displayUrl,
        format: changes.format ?? current.format,
        eventTypes: changes.eventTypes !== undefined ? changes.eventTypes : current.eventTypes,
        projectIds: changes.projectIds !== undefined ? changes.projectIds : current.projectIds,
        sealedHeaders: changes.headers !== undefined ? (headers ?? null) : current.sealedHeaders,
        headerNames: changes.headers !== undefined ? Object.keys(changes.headers) : current.headerNames,
        description: changes.description !== undefined ? changes.description : current.description,
        enabled: changes.enabled ?? current.enabled,
      };
      const rateLimit = changes.rateLimit !== undefined ? changes.rateLimit : current.rateLimit;
      const minSeverity = changes.minSeverity !== undefined ? changes.minSeverity : current.minSeverity;
      if (rateLimit !== undefined) next.rateLimit = rateLimit;
      if (minSeverity !== undefined) next.minSeverity = minSeverity;
      const keys = new Set([...Object.keys(next), ...Object.keys(current)]) as Set<keyof WebhookSettings>;
      const changed = [...keys].filter((key) => !sameJson(next[key], current[key]));
      return changed.length === 0 ? [] : [new WebhookUpdated(organisationId, webhookId, next, changed, new Date().toISOString())];
    });
  }
}

@CommandHandler(RotateWebhookSecret)
export class RotateWebhookSecretHandler implements ICommandHandler<RotateWebhookSecret, void> {
  constructor(
    private readonly aggregates: AggregateStore,
    @Inject(SECRET_BOX) private readonly box: SecretBox,
  ) {}

  async execute({ organisationId, webhookId, secretId, secret, previousExpireAt }: RotateWebhookSecret): Promise<void> {
    const stream = webhooksStream(organisationId);
    const now = new Date();
    const sealed = sealWebhookSecret(this.box, stream, webhookId, secretId, secret, now.toISOString());
    await this.aggregates.execute(stream, Webhooks, (state) => {
      if (existing(state, webhookId).secrets.some((s) => s.id === secretId)) return [];
      return [new WebhookSecretRotated(organisationId, webhookId, sealed, previousExpireAt, now.toISOString())];
    });
  }
}

@CommandHandler(DeleteWebhook)
export class DeleteWebhookHandler implements ICommandHandler<DeleteWebhook, void> {
  constructor(private readonly aggregates: AggregateStore) {}

  async execute({ organisationId, webhookId }: DeleteWebhook): Promise<void> {
    await this.aggregates.execute(webhooksStream(organisationId), Webhooks, (state) => {
      existing(state, webhookId);
      return [new WebhookDeleted(organisationId, webhookId, new Date().toISOString())];
    });
  }
}

@CommandHandler(DisableGoneWebhook)
export class DisableGoneWebhookHandler implements ICommandHandler<DisableGoneWebhook, boolean> {
  constructor(private readonly aggregates: AggregateStore) {}

  /** true when this disabled it (false: deleted or already disabled meanwhile). */
  async execute({ organisationId, webhookId, deliveryId, reason }: DisableGoneWebhook): Promise<boolean> {
    const { events } = await this.aggregates.execute(webhooksStream(organisationId), Webhooks, (state) => {
      const webhook = state.webhooks.get(webhookId);
      // Deleted or already disabled meanwhile: nothing left to do.
      if (!webhook || !webhook.settings.enabled) return [];
      return [new WebhookDisabled(organisationId, webhookId, reason, deliveryId, new Date().toISOString())];
    });
    return events.length > 0;
  }
}
