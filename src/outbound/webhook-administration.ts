import { Inject, Injectable } from '@nestjs/common';
import { APP_CONFIG, type AppConfig } from '../config/config';
import { TENANCY, type Tenancy } from '../contracts/tenancy';
import { ReadSideRunner, type AsOfCut } from '../cqrs/read-side.runner';
import { ReadYourWrites } from '../cqrs/read-your-writes';
import { conflict, invalidRequest, notFound } from '../http/app-error';
import { describeAsOf } from '../http/as-of';
import { RequestRedelivery } from './commands/delivery.commands';
import type { WebhookInput } from './commands/webhook.commands';
import { AddressPolicy } from './delivery/address-policy';
import { checkWebhookUrl } from './delivery/destination';
import type { CreateWebhookDto, DeliveryDetailDto, DeliveryPageDto, ListDeliveriesQuery, UpdateWebhookDto, WebhookDto } from './http/webhooks.dto';
import { decodeCursor, encodeCursor } from './http/query-params';
import { attemptsView, deliveryView, healthView, waitUntilOf, webhookView } from './http/views';
import { DeliveriesProjection } from './projections/deliveries.projection';
import { WebhooksProjection, type WebhookRecord } from './projections/webhooks.projection';
import { deliveryStream } from './events/delivery.events';
import { webhooksStream } from './events/webhook.events';
import { headerProblems } from './webhook-headers';

/**
 * The webhooks API's use cases beyond one command: a request's settings checked (the URL against the SSRF
 * guard, the projects against the organisation, the headers against the reserved ones) and turned into the
 * command's input; a webhook's view with its health; its deliveries page; recovering its dead letters.
 */
@Injectable()
export class WebhookAdministration {
  constructor(
    @Inject(APP_CONFIG) private readonly config: AppConfig,
    @Inject(TENANCY) private readonly tenancy: Tenancy,
    private readonly commands: ReadYourWrites,
    private readonly deliveries: DeliveriesProjection,
    private readonly policy: AddressPolicy,
    private readonly readSide: ReadSideRunner,
  ) {}

  async inputFor(organisationId: string, body: CreateWebhookDto): Promise<WebhookInput> {
    return {
      url: await this.checkUrl(body.url),
      format: body.format ?? 'envelope',
      eventTypes: body.event_types ?? null,
      projectIds: this.checkProjects(organisationId, body.project_ids ?? null),
      headers: this.checkHeaders(body.headers ?? {}),
      description: body.description ?? null,
      enabled: body.enabled ?? true,
      ...(body.rate_limit !== undefined && { rateLimit: body.rate_limit && { limit: body.rate_limit.limit, period: body.rate_limit.period } }),
      ...(body.min_severity !== undefined && { minSeverity: body.min_severity }),
    };
  }

  /** Only the fields given. */
  async changesFor(webhook: WebhookRecord, body: UpdateWebhookDto): Promise<Partial<WebhookInput>> {
    const changes: Partial<WebhookInput> = {};
    if (body.url !== undefined) changes.url = await this.checkUrl(body.url);
    if (body.format !== undefined) changes.format = body.format;
    if (body.event_types !== undefined) changes.eventTypes = body.event_types;
    if (body.project_ids !== undefined) changes.projectIds = this.checkProjects(webhook.organisationId, body.project_ids);
    if (body.headers !== undefined) changes.headers = this.checkHeaders(body.headers);
    if (body.description !== undefined) changes.description = body.description;
    if (body.enabled !== undefined) changes.enabled = body.enabled;
    if (body.rate_limit !== undefined) changes.rateLimit = body.rate_limit && { limit: body.rate_limit.limit, period: body.rate_limit.period };
    if (body.min_severity !== undefined) changes.minSeverity = body.min_severity;
    return changes;
  }

  /** When the previous secrets stop signing after a rotation now: the request's grace period, or the default. */
  previousSecretsExpireAt(graceSeconds: number | undefined): string {
    const graceMs = graceSeconds !== undefined ? graceSeconds * 1000 : this.config.outbound.secretGraceMs;
    return new Date(Date.now() + graceMs).toISOString();
  }

  view(webhook: WebhookRecord): WebhookDto {
    return webhookView(webhook, healthView(this.deliveries.health(webhook.id), this.breaker()));
  }

  deliveryPage(webhook: WebhookRecord, query: ListDeliveriesQuery): DeliveryPageDto {
    const limit = query.limit ?? 100;
    const { items, last } = this.deliveries.list(webhook.id, { status: query.status, before: decodeCursor(query.cursor), limit });
    const waitUntil = waitUntilOf(this.deliveries.streak(webhook.id), this.breaker());
    return { items: items.map((item) => deliveryView(item, waitUntil)), next_cursor: last !== null && items.length === limit ? encodeCursor(last) : null };
  }

  /**
   * A webhook as it stood at `cut` (`?as_of=`): its settings rebuilt from its organisation's webhooks stream up
   * to then; its health is today's (it comes from every delivery, not from that stream). Not found when it did
   * not exist yet, or had been deleted.
   */
  async viewAsOf(webhook: WebhookRecord, cut: AsOfCut): Promise<WebhookDto> {
    const events = await this.readSide.readStreams([webhooksStream(webhook.organisationId)]);
    const then = this.readSide.asOf(WebhooksProjection, events, cut, (past) => past.webhook(webhook.organisationId, webhook.id));
    if (!then) throw notFound(`Webhook '${webhook.id}' did not exist at ${describeAsOf(cut)}`);
    return this.view(then);
  }

  /** A delivery and its attempts as they stood at `cut`, rebuilt from the delivery's own stream. */
  async deliveryAsOf(organisationId: string, deliveryId: string, cut: AsOfCut): Promise<DeliveryDetailDto> {
    const events = await this.readSide.readStreams([deliveryStream(deliveryId)]);
    const then = this.readSide.asOf(DeliveriesProjection, events, cut, (past) => {
      const delivery = past.delivery(organisationId, deliveryId);
      return delivery && { ...deliveryView(delivery), attempt_log: attemptsView(past.attempts(deliveryId)) };
    });
    if (!then) throw notFound(`Delivery '${deliveryId}' did not exist at ${describeAsOf(cut)}`);
    return then;
  }

  /** Redelivers the dead letters that failed in [since, until) (each keeps its delivery id); their ids. */
  async recover(webhook: WebhookRecord, sinceMs: number, untilMs: number | undefined): Promise<string[]> {
    if (!webhook.settings.enabled) throw conflict('The webhook is disabled; enable it first', 'webhook_disabled');
    const since = new Date(sinceMs).toISOString();
    const until = untilMs === undefined ? undefined : new Date(untilMs).toISOString();
    const ids = this.deliveries.failedSince(webhook.id, since, until);
    for (const deliveryId of ids) await this.commands.execute(new RequestRedelivery(webhook.organisationId, deliveryId, 'recover'));
    return ids;
  }

  private breaker() {
    return { threshold: this.config.outbound.breakerThreshold, cooldownMs: this.config.outbound.breakerCooldownMs };
  }

  private checkUrl(url: string): Promise<string> {
    return checkWebhookUrl(url, this.policy, this.config.outbound.allowInsecureWebhooks);
  }

  private checkProjects(organisationId: string, projectIds: string[] | null): string[] | null {
    if (projectIds === null) return null;
    const ids = projectIds.map((p) => p.toLowerCase());
    const unknown = ids.filter((p) => !this.tenancy.project(organisationId, p));
    if (unknown.length) {
      throw invalidRequest(`Not projects of this organisation: ${unknown.join(', ')}`, [{ field: 'project_ids', problems: unknown.map((p) => `${p} is not a project of this organisation`) }]);
    }
    return ids;
  }

  private checkHeaders(headers: Record<string, string>): Record<string, string> {
    const problems = headerProblems(headers, this.config.outbound.signatureHeader);
    if (problems.length) throw invalidRequest(`Invalid headers: ${problems.join('; ')}`, [{ field: 'headers', problems }]);
    return headers;
  }
}
