import { Inject, Injectable, Logger, type OnApplicationBootstrap, type OnApplicationShutdown } from '@nestjs/common';
import { randomUUID } from 'node:crypto';
import { AggregateStore } from '../cqrs/aggregate-store';
import { APP_CONFIG, type AppConfig } from '../config/config';
import { runWithContext } from '../cqrs/request-context';
import { StreamNotFound, WrongExpectedVersion } from '../event-store/event-store.errors';
import {
  EVENT_STORE,
  comparePositions,
  encodePosition,
  decodePosition,
  type EventStore,
  type Position,
} from '../event-store/event-store.port';
import { AuditScope } from './audit-scope';
import { hashOf } from './audit-record';
import { LEDGER_CATEGORY, LedgerCheckpointRecorded, ledgerStream, type StreamHead } from './events/ledger.events';
import { categoryOf } from './projections/audit-streams.projection';
import { AuditSigningKey } from './signing-key';
import { signedBody, CHECKPOINT_TYPE } from './verification/ledger-check';

export const AUDIT_SIGNING_KEY = Symbol('AUDIT_SIGNING_KEY');
const PAGE = 1_000;
const yieldToLoop = () => new Promise<void>((resolve) => setImmediate(resolve));

export interface CheckpointTaken {
  ledger: string;
  organisation_id: string | null;
  sequence: number;
  from: string | null;
  to: string;
  streams: number;
  key_id: string;
  signature: string;
  position: string;
}

/**
 * Ledger checkpoints: periodically (TW_AUDIT_CHECKPOINT_INTERVAL) and on demand, one pass over the log since the
 * last checkpoint appends to each organisation's `ledger-<organisation>` stream the head of every stream of
 * it that changed, signed with the audit key. They let verification see what a chain alone cannot: a cut tail,
 * a removed stream, a history rewritten with every hash recomputed. Each checkpoint is also written to the
 * log (the application log, shipped elsewhere) as it is made, so a ledger rewritten inside the database still
 * disagrees with what left it.
 */
@Injectable()
export class LedgerCheckpoints implements OnApplicationBootstrap, OnApplicationShutdown {
  private readonly logger = new Logger('AuditLedger');
  /** Log position the last checkpoint pass covered; undefined until read from the ledgers, null: none yet. */
  private covered: Position | null | undefined;
  private queue: Promise<unknown> = Promise.resolve();
  private timer?: NodeJS.Timeout;

  constructor(
    @Inject(EVENT_STORE) private readonly store: EventStore,
    private readonly aggregates: AggregateStore,
    @Inject(APP_CONFIG) private readonly config: AppConfig,
    @Inject(AUDIT_SIGNING_KEY) private readonly key: AuditSigningKey,
    private readonly scope: AuditScope,
  ) {}

  onApplicationBootstrap(): void {
    const every = this.config.audit.checkpointIntervalMs;
    if (every <= 0) return;
    this.timer = setInterval(() => {
      this.take().catch((error: unknown) => this.logger.error(`Ledger checkpoint failed: ${(error as Error).message}`));
    }, every);
    this.timer.unref();
  }

  async onApplicationShutdown(): Promise<void> {
    clearInterval(this.timer);
    await this.queue.catch(() => undefined);
  }

  /** One checkpoint pass; passes never overlap. */
  take(): Promise<CheckpointTaken[]> {
    const run = this.queue.then(() => this.pass());
    this.queue = run.catch(() => undefined);
    return run;
  }

  private async pass(): Promise<CheckpointTaken[]> {
    const from = await this.lastCovered();
    const head = await this.store.headPosition();
    if (!head || (from && comparePositions(from, head) >= 0)) return [];
    // organisation (null: the instance) → stream → its last head in the range
    const changed = new Map<string | null, Map<string, StreamHead>>();
    let after = from ?? undefined;
    for (let done = false; !done; ) {
      const page = await this.store.readAll({ after, maxCount: PAGE });
      done = page.length < PAGE;
      for (const event of page) {
        if (comparePositions(event.position, head) > 0) {
          done = true;
          break;
        }
        after = event.position;
        if (categoryOf(event.stream) === LEDGER_CATEGORY) continue;
        const organisation = (await this.scope.organisationOfStream(event.stream)) ?? null;
        let heads = changed.get(organisation);
        if (!heads) changed.set(organisation, (heads = new Map()));
        heads.set(event.stream, { stream: event.stream, revision: Number(event.revision), hash: hashOf(event) });
      }
      await yieldToLoop();
    }
    const taken: CheckpointTaken[] = [];
    const id = randomUUID();
    await runWithContext({ correlationId: id, causationId: id, actor: 'system:audit-ledger' }, async () => {
      for (const [organisation, heads] of changed) {
        const checkpoint = await this.append(organisation, [...heads.values()].sort((a, b) => (a.stream < b.stream ? -1 : 1)), from, head);
        if (checkpoint) taken.push(checkpoint);
      }
    });
    this.covered = head;
    return taken;
  }

  private async append(organisation: string | null, streams: StreamHead[], from: Position | null, to: Position): Promise<CheckpointTaken | null> {
    const ledger = ledgerStream(organisation);
    let expected: bigint | 'no_stream' = 'no_stream';
    let sequence = 1;
    try {
      const [last] = await this.store.readStream(ledger, { direction: 'backwards', maxCount: 1 });
      expected = last.revision;
      sequence = Number(last.data.sequence) + 1;
    } catch (error) {
      if (!(error instanceof StreamNotFound)) throw error;
    }
    const unsigned = new LedgerCheckpointRecorded(
      organisation,
      sequence,
      from ? encodePosition(from) : null,
      encodePosition(to),
      new Date().toISOString(),
      streams,
      'Ed25519',
      this.key.publicKeyBase64,
      this.key.keyId,
      '',
    );
    const body = signedBody(JSON.parse(JSON.stringify(unsigned)));
    const checkpoint = Object.assign(unsigned, { signature: this.key.sign(body) });
    try {
      const appended = await this.aggregates.record(ledger, [checkpoint], { expectedRevision: expected });
      const taken: CheckpointTaken = {
        ledger,
        organisation_id: organisation,
        sequence,
        from: checkpoint.from,
        to: checkpoint.to,
        streams: streams.length,
        key_id: this.key.keyId,
        signature: checkpoint.signature,
        position: encodePosition(appended.position),
      };
      // Sent out of Towline as it is made: the log leaves the machine, the database may not be trusted later.
      this.logger.log(`Ledger checkpoint ${JSON.stringify(taken)}`);
      return taken;
    } catch (error) {
      // Another instance checkpointed this ledger at the same time: its checkpoint covers the same streams.
      if (error instanceof WrongExpectedVersion) return null;
      throw error;
    }
  }

  /** The highest `to` of any checkpoint (read once, from the checkpoint events' own index on the embedded store). */
  private async lastCovered(): Promise<Position | null> {
    if (this.covered !== undefined) return this.covered;
    let covered: Position | null = null;
    let after: Position | undefined;
    for (;;) {
      const page = await this.store.readAll({ after, maxCount: PAGE, filter: { eventTypes: [CHECKPOINT_TYPE] } });
      for (const event of page) {
        const to = decodePosition(String(event.data.to));
        if (!covered || comparePositions(to, covered) > 0) covered = to;
        after = event.position;
      }
      if (page.length < PAGE) break;
    }
    this.covered = covered;
    return covered;
  }
}
