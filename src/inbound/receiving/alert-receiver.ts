import { Inject, Injectable, Logger } from '@nestjs/common';
import { createHash, randomUUID } from 'node:crypto';
import { APP_CONFIG, type AppConfig } from '../../config/config';
import { SECRET_BOX, type SecretBox } from '../../config/secret-box';
import { AggregateStore, keyed } from '../../cqrs/aggregate-store';
import { eventTypeOf, hydrate } from '../../cqrs/domain-event';
import { ReadYourWrites } from '../../cqrs/read-your-writes';
import { eventMetadata } from '../../cqrs/request-context';
import { WrongExpectedVersion } from '../../event-store/event-store.errors';
import { EVENT_STORE, type EventStore, type JsonObject, type Position } from '../../event-store/event-store.port';
import { AppError } from '../../http/app-error';
import { parseJsonBody } from '../../http/json-body';
import { deterministicUuid } from '../../contracts/ids';
import { AlertReceived, alertStream, queuedAnswer, type AcceptedAnswer, type WebhookAnswer } from '../events/alert.events';
import { normalize } from '../normalizers';
import { SourcesProjection } from '../projections/sources.projection';
import { checkTimestamp, parseSignatureHeader, verifySignature, type TimestampVerdict } from '../signature';
import { activeSecrets } from '../source.aggregate';
import { openSourceSecret } from '../source-secrets';
import { AlertProcessor, causeOf } from './alert-processor';
import { RejectedRequests } from './rejected-requests';

/** A queued answer is read back from the receipts only (the incidents come later, from the queue reactor). */
const RECEIPT_TYPES: ReadonlySet<string> = new Set([eventTypeOf(AlertReceived)]);

export interface InboundRequest {
  source: string;
  timestamp: string | undefined;
  signature: string | undefined;
  body: Buffer;
  contentType: string | undefined;
  userAgent: string | undefined;
  /** For the list of refused requests, so a refusal can be matched with the sender's logs. */
  requestId?: string;
}

/** The answer, and what the route's metrics and log record say about it. */
export interface ReceiveResult {
  answer: WebhookAnswer;
  test: boolean;
  replay: boolean;
}

const TIMESTAMP_MESSAGES: Record<Exclude<TimestampVerdict, 'ok'>, string> = {
  missing: 'Webhook timestamp is missing or not a Unix time in seconds',
  too_old: 'Webhook timestamp is too old (>5 minutes)',
  too_new: 'Webhook timestamp is too far in the future (>5 minutes)',
};

const TEST_EVENT_ANSWER: AcceptedAnswer = {
  status: 'accepted',
  incident_id: null,
  incident_number: null,
  message: 'Test event verified; test events open no incident',
};

/** `{"event_type":"test", ...}`: the seed's test event, and the one POST /api/webhooks/:source/test-event signs. */
function isTestEvent(payload: unknown): boolean {
  return isObject(payload) && payload.event_type === 'test';
}

const isObject = (value: unknown): value is Record<string, unknown> => typeof value === 'object' && value !== null && !Array.isArray(value);

/**
 * Every vendor sends an object (a batch is an object with an array inside) or, at most, an array of objects.
 * Anything else — `null`, `42`, `"hello"`, `[]`, `[1, 2]` — is no alert, however well signed: refused rather
 * than recorded as an "Unrecognised alert" incident.
 */
function checkShape(payload: unknown): void {
  if (isObject(payload)) return;
  if (Array.isArray(payload) && payload.length === 0) throw new AppError(400, 'invalid_payload', 'Payload contains no alerts');
  if (Array.isArray(payload) && payload.every(isObject)) return;
  const what = Array.isArray(payload) ? 'an array holding something else than objects' : payload === null ? 'null' : `a ${typeof payload}`;
  throw new AppError(400, 'invalid_payload', `Payload must be a JSON object or a non-empty array of objects, not ${what}`);
}

/** The body as text when that is exact, else base64: see AlertReceived.body. */
function verbatim(body: Buffer): { text: string; encoding: 'utf8' | 'base64' } {
  const text = body.toString('utf8');
  return Buffer.from(text, 'utf8').equals(body) ? { text, encoding: 'utf8' } : { text: body.toString('base64'), encoding: 'base64' };
}

const header = (value: string | undefined, max: number) => (value === undefined ? null : value.slice(0, max));

/**
 * POST /api/webhooks/:source, after Fastify has read the body (size limit, JSON media type) and before it is
 * parsed: authenticate, then parse, normalize, record and answer. Checks run in the contract's order —
 * unknown source, timestamp, signature, payload — and nothing is written for a refused request.
 */
@Injectable()
export class AlertReceiver {
  private readonly logger = new Logger('Webhooks');
  /** Requests on the synchronous path right now; see TW_WEBHOOK_SYNC_LIMIT. */
  private inFlight = 0;

  constructor(
    private readonly sources: SourcesProjection,
    private readonly processor: AlertProcessor,
    private readonly aggregates: AggregateStore,
    private readonly readYourWrites: ReadYourWrites,
    @Inject(SECRET_BOX) private readonly box: SecretBox,
    @Inject(EVENT_STORE) private readonly store: EventStore,
    @Inject(APP_CONFIG) private readonly config: AppConfig,
    private readonly rejected: RejectedRequests,
  ) {}

  async receive(request: InboundRequest): Promise<ReceiveResult> {
    const source = this.sources.byName(request.source);
    if (!source) throw new AppError(404, 'unknown_source', `Webhook source '${request.source}' is not registered`);
    const now = Date.now();
    const verdict = checkTimestamp(request.timestamp, now);
    if (verdict !== 'ok') throw new AppError(401, 'timestamp_expired', TIMESTAMP_MESSAGES[verdict]);
    const timestamp = request.timestamp!;
    const digest = parseSignatureHeader(request.signature);
    const secrets = activeSecrets(source.secrets, now).map((secret) => openSourceSecret(this.box, source.stream, secret));
    if (!digest || !verifySignature(secrets, timestamp, request.body, digest)) {
      throw new AppError(401, 'invalid_signature', 'Webhook signature verification failed');
    }

    const receivedAt = new Date(now);
    const settings = source.settings;
    let alerts: ReturnType<typeof normalize>;
    try {
      const payload = parseJsonBody(request.body, 'invalid_payload');
      checkShape(payload);
      // Verified and answered, never recorded: a connectivity check is not an alert, and must not become an incident.
      if (isTestEvent(payload)) return { answer: TEST_EVENT_ANSWER, test: true, replay: false };
      alerts = normalize(payload, settings.format, { receivedAt, severityMapping: settings.severityMapping, dedupField: settings.dedupField ?? undefined });
      if (alerts.length > this.config.webhookMaxAlerts) {
        throw new AppError(
          413,
          'too_many_alerts',
          `A request may carry at most ${this.config.webhookMaxAlerts} alerts (TW_WEBHOOK_MAX_ALERTS); this one has ${alerts.length}: split the batch`,
        );
      }
    } catch (error) {
      // Authenticated, refused for its content: kept (in memory, outside the event log) for the operator to see.
      if (error instanceof AppError) this.rejected.record(source.stream, error, request);
      throw error;
    }

    const queued = settings.mode === 'async' || this.inFlight >= this.config.webhookSyncLimit;
    const body = verbatim(request.body);
    const received = new AlertReceived(
      deterministicUuid('webhook-receipt', source.stream, timestamp, digest.toString('hex')),
      source.organisationId,
      source.name,
      settings.projectId,
      { autoTriage: settings.autoTriage, playbook: settings.playbook },
      queued ? 'queued' : 'sync',
      receivedAt.toISOString(),
      header(request.contentType, 200),
      header(request.userAgent, 256),
      body.text,
      body.encoding,
      createHash('sha256').update(request.body).digest('hex'),
      settings.format,
      alerts,
    );
    if (queued) return this.record(received);
    // Counted from the decision on (nothing above awaited), so simultaneous requests cannot all slip under the limit.
    this.inFlight += 1;
    try {
      return await this.record(received);
    } finally {
      this.inFlight -= 1;
    }
  }

  private async record(received: AlertReceived): Promise<ReceiveResult> {
    const eventId = randomUUID();
    // The request is the sender's, authenticated by its source's secret: attributed to the source.
    const metadata: JsonObject = { ...eventMetadata(), actor: `source:${received.source}` };
    const appending = this.aggregates.record(alertStream(received.receiptId), [keyed(received, eventId)], { expectedRevision: 'no_stream', metadata });
    // Synchronous: processing starts now, so the incident number's claim joins the receipt's commit; the
    // incident's own events wait for the receipt (see RecordAlert.receiptRecorded). Two durable rounds.
    const processing = received.mode === 'sync' ? this.processor.process(received, causeOf(eventId, metadata), appending) : undefined;
    processing?.catch(() => undefined); // awaited below; a failure is answered there
    let position: Position;
    try {
      ({ position } = await appending);
    } catch (error) {
      if (!(error instanceof WrongExpectedVersion)) throw error;
      // A replay: what was started here fails on the missing receipt and is dropped before the first's answer is looked up.
      await processing?.catch(() => undefined);
      return { answer: await this.replay(received.receiptId), test: false, replay: true };
    }

    if (!processing) {
      await this.readYourWrites.reflect({ position, types: RECEIPT_TYPES });
      return { answer: queuedAnswer(received.receiptId), test: false, replay: false };
    }
    try {
      const processed = await processing;
      await this.readYourWrites.reflect(processed.written);
      return { answer: processed.answer, test: false, replay: false };
    } catch (error) {
      // The receipt is durable and the queue reactor retries it: the sender need not, so it is told "queued".
      this.logger.warn(`Processing receipt ${received.receiptId} failed, left to the queue reactor: ${String(error)}`);
      return { answer: queuedAnswer(received.receiptId), test: false, replay: false };
    }
  }

  /**
   * An exact replay gets the first request's answer: `queued` (same queue id) when that one was queued, the
   * recorded outcome when it was processed, and — while the first is still being processed, here or by
   * another instance — the outcome of that processing, joined or, if its owner died, finished here.
   */
  private async replay(receiptId: string): Promise<WebhookAnswer> {
    const [first] = await this.store.readStream(alertStream(receiptId), { maxCount: 1 });
    const original = hydrate(first);
    if (!(original instanceof AlertReceived)) throw new Error(`Receipt ${receiptId} does not start with AlertReceived`);
    if (original.mode === 'queued') return queuedAnswer(receiptId);
    const { answer } = await this.processor.process(original, causeOf(first.id, first.metadata));
    return answer;
  }
}
