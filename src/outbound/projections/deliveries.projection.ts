import { Inject, Injectable } from '@nestjs/common';
import type { IEvent } from '@nestjs/cqrs';
import type { StatementSync } from 'node:sqlite';
import type { EventContext } from '../../cqrs/domain-event';
import { TableChanges } from '../../cqrs/table-changes';
import { StoreConsumer, type StoreConsumerHandler } from '../../cqrs/store-consumer';
import { READ_MODEL_DATABASE, type ReadModelDatabase } from '../../read-model/read-model.database';
import type { DeliveryStatus } from '../delivery.aggregate';
import type { DeliveryJob } from '../delivery/delivery-queue.port';
import {
  DeliveryAttemptClaimed,
  DeliveryAttempted,
  DeliveryCancelled,
  DeliveryFailed,
  DeliveryRedeliveryRequested,
  DeliveryRetryScheduled,
  DeliveryScheduled,
  DeliverySucceeded,
  type AttemptRecord,
} from '../events/delivery.events';

export const DELIVERIES_PROJECTION = 'outbound.deliveries';

/** Success rate is over this many most recent attempts. */
export const HEALTH_WINDOW = 100;

export interface DeliveryView {
  id: string;
  organisation_id: string;
  webhook_id: string;
  event_id: string;
  event_type: string;
  project_id: string | null;
  status: DeliveryStatus;
  attempts: number;
  next_attempt_at: string | null;
  last_status_code: number | null;
  last_error: string | null;
  failure_reason: string | null;
  created_at: string;
  updated_at: string;
  finished_at: string | null;
}

export interface AttemptView extends AttemptRecord {
  attempt: number;
  succeeded: boolean;
}

export interface WebhookHealth {
  attempts: number;
  successes: number;
  consecutive_failures: number;
  /** Over the last HEALTH_WINDOW attempts; null before the first. */
  success_rate: number | null;
  last_attempt_at: string | null;
  last_success_at: string | null;
  last_failure_at: string | null;
  last_status_code: number | null;
}

interface DeliveryRow extends Omit<DeliveryView, 'next_attempt_at'> {
  seq: number;
  next_attempt_at: number | null;
}

export interface WebhookStreak {
  consecutiveFailures: number;
  lastFailureAt: number | null;
  pausedUntil: number | null;
  failingSince: number | null;
}

function streakOf(
  row: { consecutive_failures: number; last_failure_at: string | null; paused_until: number | null; failing_since: string | null } | undefined,
): WebhookStreak {
  return {
    consecutiveFailures: row?.consecutive_failures ?? 0,
    lastFailureAt: row?.last_failure_at ? Date.parse(row.last_failure_at) : null,
    pausedUntil: row?.paused_until ?? null,
    failingSince: row?.failing_since ? Date.parse(row.failing_since) : null,
  };
}

interface JobRow {
  id: string;
  organisation_id: string;
  webhook_id: string;
  due_attempt: number;
  next_attempt_at: number;
}

const toJob = (r: JobRow): DeliveryJob => ({
  deliveryId: r.id,
  organisationId: r.organisation_id,
  webhookId: r.webhook_id,
  attempt: r.due_attempt,
  dueAt: r.next_attempt_at,
});

/** ALTER TABLE … ADD COLUMN unless the table has it: SQLite has no IF NOT EXISTS for columns. */
function addColumn(db: ReadModelDatabase['db'], table: string, column: string, type: string): void {
  const columns = db.prepare(`PRAGMA table_info(${table})`).all() as { name: string }[];
  if (!columns.some((c) => c.name === column)) db.exec(`ALTER TABLE ${table} ADD COLUMN ${column} ${type}`);
}

const toView = ({ seq: _, next_attempt_at, ...row }: DeliveryRow): DeliveryView => ({
  ...row,
  next_attempt_at: next_attempt_at === null ? null : new Date(next_attempt_at).toISOString(),
});

/**
 * Deliveries, their attempts, and each webhook's health — and the due work: a delivery is due while it has
 * a `due_attempt`, from `next_attempt_at` on. Everything here is derived from the delivery streams, so the
 * work due after a restart (or after deleting read-models.db) is exactly what the events say is due.
 * Attempts are keyed by (delivery, attempt number), and health counters move only when an attempt row is
 * new, so a replayed event changes nothing.
 */
@StoreConsumer({
  name: DELIVERIES_PROJECTION,
  tables: ['outbound_deliveries', 'outbound_delivery_attempts', 'outbound_webhook_health'],
  queryIndexes: ['outbound_deliveries_due', 'outbound_deliveries_by_webhook', 'outbound_attempts_by_webhook', 'outbound_deliveries_rounds'],
  // 2: rounds' start times (deadlines), claims, back-pressure pauses and failing-since.
  version: 2,
  events: [
    DeliveryScheduled,
    DeliveryAttemptClaimed,
    DeliveryAttempted,
    DeliveryRetryScheduled,
    DeliverySucceeded,
    DeliveryFailed,
    DeliveryCancelled,
    DeliveryRedeliveryRequested,
  ],
})
@Injectable()
export class DeliveriesProjection implements StoreConsumerHandler {
  private readonly sql: Record<string, StatementSync>;
  /** Notified whenever work may have become due (the delivery queue wakes up on it). */
  readonly due = new TableChanges();

  constructor(@Inject(READ_MODEL_DATABASE) readModels: ReadModelDatabase) {
    const db = readModels.db;
    db.exec(`
      CREATE TABLE IF NOT EXISTS outbound_deliveries (
        seq INTEGER PRIMARY KEY AUTOINCREMENT, id TEXT NOT NULL UNIQUE, organisation_id TEXT NOT NULL,
        webhook_id TEXT NOT NULL, event_id TEXT NOT NULL, event_type TEXT NOT NULL, project_id TEXT,
        status TEXT NOT NULL, attempts INTEGER NOT NULL DEFAULT 0, due_attempt INTEGER, next_attempt_at INTEGER,
        last_status_code INTEGER, last_error TEXT, failure_reason TEXT,
        created_at TEXT NOT NULL, updated_at TEXT NOT NULL, finished_at TEXT
      );
      CREATE INDEX IF NOT EXISTS outbound_deliveries_due ON outbound_deliveries (webhook_id, next_attempt_at) WHERE due_attempt IS NOT NULL;
      CREATE INDEX IF NOT EXISTS outbound_deliveries_by_webhook ON outbound_deliveries (webhook_id, seq);
      CREATE TABLE IF NOT EXISTS outbound_delivery_attempts (
        delivery_id TEXT NOT NULL, attempt INTEGER NOT NULL, webhook_id TEXT NOT NULL, started_at TEXT NOT NULL,
        succeeded INTEGER NOT NULL, record TEXT NOT NULL, PRIMARY KEY (delivery_id, attempt)
      );
      CREATE INDEX IF NOT EXISTS outbound_attempts_by_webhook ON outbound_delivery_attempts (webhook_id, started_at);
      CREATE TABLE IF NOT EXISTS outbound_webhook_health (
        webhook_id TEXT PRIMARY KEY, attempts INTEGER NOT NULL, successes INTEGER NOT NULL,
        consecutive_failures INTEGER NOT NULL, last_attempt_at TEXT, last_success_at TEXT, last_failure_at TEXT,
        last_status_code INTEGER
      );
    `);
    // Columns added by version 2: a file of version 1 gets them here, and is then emptied and rebuilt.
    addColumn(db, 'outbound_deliveries', 'round_started_at', 'INTEGER');
    addColumn(db, 'outbound_webhook_health', 'paused_until', 'INTEGER');
    addColumn(db, 'outbound_webhook_health', 'failing_since', 'TEXT');
    db.exec('CREATE INDEX IF NOT EXISTS outbound_deliveries_rounds ON outbound_deliveries (round_started_at) WHERE due_attempt IS NOT NULL');
    const COLUMNS =
      'seq, id, organisation_id, webhook_id, event_id, event_type, project_id, status, attempts, next_attempt_at, ' +
      'last_status_code, last_error, failure_reason, created_at, updated_at, finished_at';
    this.sql = {
      schedule: db.prepare(
        'INSERT OR IGNORE INTO outbound_deliveries (id, organisation_id, webhook_id, event_id, event_type, project_id, status, due_attempt, next_attempt_at, round_started_at, created_at, updated_at) ' +
          "VALUES (?1, ?2, ?3, ?4, ?5, ?6, 'pending', ?7, ?8, ?8, ?9, ?9)",
      ),
      attempt: db.prepare(
        'INSERT OR IGNORE INTO outbound_delivery_attempts (delivery_id, attempt, webhook_id, started_at, succeeded, record) VALUES (?, ?, ?, ?, ?, ?)',
      ),
      attempted: db.prepare(
        'UPDATE outbound_deliveries SET attempts = max(attempts, ?), last_status_code = ?, last_error = ?, updated_at = ? WHERE id = ?',
      ),
      health: db.prepare(
        'INSERT INTO outbound_webhook_health (webhook_id, attempts, successes, consecutive_failures, last_attempt_at, last_success_at, last_failure_at, last_status_code, failing_since) ' +
          'VALUES (?1, 1, ?2, 1 - ?2, ?3, CASE WHEN ?2 = 1 THEN ?3 END, CASE WHEN ?2 = 0 THEN ?3 END, ?4, CASE WHEN ?2 = 0 THEN ?3 END) ' +
          'ON CONFLICT (webhook_id) DO UPDATE SET attempts = attempts + 1, successes = successes + ?2, ' +
          'consecutive_failures = CASE WHEN ?2 = 1 THEN 0 ELSE consecutive_failures + 1 END, ' +
          'last_attempt_at = max(coalesce(last_attempt_at, ?3), ?3), ' +
          'last_success_at = CASE WHEN ?2 = 1 THEN ?3 ELSE last_success_at END, ' +
          'last_failure_at = CASE WHEN ?2 = 0 THEN ?3 ELSE last_failure_at END, last_status_code = ?4, ' +
          'failing_since = CASE WHEN ?2 = 1 THEN NULL ELSE coalesce(failing_since, ?3) END',
      ),
      // Back-pressure is an answer, not a failure: it moves neither the streak nor the failing-since.
      pushedBack: db.prepare(
        'INSERT INTO outbound_webhook_health (webhook_id, attempts, successes, consecutive_failures, last_attempt_at, last_status_code) VALUES (?1, 1, 0, 0, ?2, ?3) ' +
          'ON CONFLICT (webhook_id) DO UPDATE SET attempts = attempts + 1, last_attempt_at = max(coalesce(last_attempt_at, ?2), ?2), last_status_code = ?3',
      ),
      pause: db.prepare('UPDATE outbound_webhook_health SET paused_until = max(coalesce(paused_until, 0), ?) WHERE webhook_id = ?'),
      claimed: db.prepare('UPDATE outbound_deliveries SET next_attempt_at = max(next_attempt_at, ?) WHERE id = ? AND due_attempt = ?'),
      due: db.prepare(
        'UPDATE outbound_deliveries SET status = ?1, due_attempt = ?2, next_attempt_at = ?3, failure_reason = NULL, updated_at = ?4, ' +
          'round_started_at = CASE WHEN ?6 = 1 THEN ?3 ELSE round_started_at END WHERE id = ?5',
      ),
      finish: db.prepare(
        'UPDATE outbound_deliveries SET status = ?, due_attempt = NULL, next_attempt_at = NULL, failure_reason = ?, updated_at = ?, finished_at = ? WHERE id = ?',
      ),
      byId: db.prepare(`SELECT ${COLUMNS} FROM outbound_deliveries WHERE organisation_id = ? AND id = ?`),
      list: db.prepare(
        `SELECT ${COLUMNS} FROM outbound_deliveries WHERE webhook_id = ?1 AND (?2 IS NULL OR status = ?2) AND (?3 IS NULL OR seq < ?3) ORDER BY seq DESC LIMIT ?4`,
      ),
      attempts: db.prepare('SELECT attempt, succeeded, record FROM outbound_delivery_attempts WHERE delivery_id = ? ORDER BY attempt'),
      healthOf: db.prepare('SELECT * FROM outbound_webhook_health WHERE webhook_id = ?'),
      streaks: db.prepare('SELECT webhook_id, consecutive_failures, last_failure_at, paused_until, failing_since FROM outbound_webhook_health'),
      streak: db.prepare('SELECT consecutive_failures, last_failure_at, paused_until, failing_since FROM outbound_webhook_health WHERE webhook_id = ?'),
      recent: db.prepare('SELECT succeeded FROM outbound_delivery_attempts WHERE webhook_id = ? ORDER BY started_at DESC LIMIT ?'),
      // A skip-scan of the due index: one seek per webhook with due work. SELECT DISTINCT read every due row,
      // on every pass of the queue: 6 ms a pass with 100,000 deliveries waiting (an endpoint down for a while),
      // against 9 µs this way.
      dueWebhooks: db.prepare(
        'WITH RECURSIVE hooks(id) AS (' +
          'SELECT (SELECT min(webhook_id) FROM outbound_deliveries WHERE due_attempt IS NOT NULL) ' +
          'UNION ALL SELECT (SELECT min(webhook_id) FROM outbound_deliveries WHERE due_attempt IS NOT NULL AND webhook_id > hooks.id) ' +
          'FROM hooks WHERE hooks.id IS NOT NULL' +
          ') SELECT id AS webhook_id, (SELECT organisation_id FROM outbound_deliveries WHERE webhook_id = hooks.id LIMIT 1) AS organisation_id ' +
          'FROM hooks WHERE id IS NOT NULL ' +
          'AND (SELECT min(next_attempt_at) FROM outbound_deliveries WHERE due_attempt IS NOT NULL AND webhook_id = hooks.id) <= ?',
      ),
      dueJobs: db.prepare(
        'SELECT id, organisation_id, webhook_id, due_attempt, next_attempt_at FROM outbound_deliveries WHERE webhook_id = ? AND due_attempt IS NOT NULL AND next_attempt_at <= ? ' +
          'ORDER BY next_attempt_at LIMIT ?',
      ),
      expired: db.prepare(
        'SELECT id, organisation_id, webhook_id, due_attempt, next_attempt_at FROM outbound_deliveries WHERE due_attempt IS NOT NULL AND round_started_at <= ? ' +
          'ORDER BY round_started_at LIMIT ?',
      ),
      nextRoundStart: db.prepare('SELECT min(round_started_at) AS next FROM outbound_deliveries WHERE due_attempt IS NOT NULL'),
      backlog: db.prepare('SELECT webhook_id, organisation_id, count(*) AS due FROM outbound_deliveries WHERE due_attempt IS NOT NULL GROUP BY webhook_id'),
      nextDue: db.prepare('SELECT min(next_attempt_at) AS next FROM outbound_deliveries WHERE due_attempt IS NOT NULL'),
      failedSince: db.prepare(
        "SELECT id FROM outbound_deliveries WHERE webhook_id = ?1 AND status = 'failed' AND finished_at >= ?2 AND (?3 IS NULL OR finished_at < ?3) ORDER BY seq",
      ),
    };
  }

  handle(event: IEvent, { created }: EventContext): void {
    const at = created.toISOString();
    let due = false;
    if (event instanceof DeliveryScheduled) {
      const { deliveryId, organisationId, webhookId, eventId, eventType, projectId, attempt, dueAt } = event;
      this.sql.schedule.run(deliveryId, organisationId, webhookId, eventId, eventType, projectId, attempt, Date.parse(dueAt), at);
      due = true;
    } else if (event instanceof DeliveryAttemptClaimed) {
      // Held by the instance that claimed it until its lease runs out: no one else looks at it before then.
      this.sql.claimed.run(Date.parse(event.leaseUntil), event.deliveryId, event.attempt);
    } else if (event instanceof DeliveryAttempted) {
      // The attempt row and the health counters it moves land together or not at all: the read side applies
      // an event's writes atomically (with its batch, or alone when the batch is replayed after a failure).
      const { record } = event;
      const inserted = this.sql.attempt.run(event.deliveryId, event.attempt, event.webhookId, record.startedAt, event.succeeded ? 1 : 0, JSON.stringify(record));
      if (inserted.changes > 0) {
        this.sql.attempted.run(event.attempt, record.response.status, record.errorClass, at, event.deliveryId);
        // Health times are when attempts ended: the breaker's cool-down counts from the failure, not the request.
        const endedAt = new Date(Date.parse(record.startedAt) + record.durationMs).toISOString();
        if (event.backPressure) this.sql.pushedBack.run(event.webhookId, endedAt, record.response.status);
        else this.sql.health.run(event.webhookId, event.succeeded ? 1 : 0, endedAt, record.response.status);
      }
    } else if (event instanceof DeliveryRetryScheduled) {
      this.sql.due.run('retrying', event.attempt, Date.parse(event.dueAt), at, event.deliveryId, 0);
      // The receiver asked to wait: the whole webhook waits, not only this delivery.
      if (event.basis === 'back_pressure') this.sql.pause.run(Date.parse(event.dueAt), event.webhookId);
      due = true;
    } else if (event instanceof DeliveryRedeliveryRequested) {
      this.sql.due.run('pending', event.attempt, Date.parse(event.dueAt), at, event.deliveryId, 1);
      due = true;
    } else if (event instanceof DeliverySucceeded) {
      this.sql.finish.run('succeeded', null, at, event.succeededAt, event.deliveryId);
    } else if (event instanceof DeliveryFailed) {
      this.sql.finish.run('failed', event.reason, at, event.failedAt, event.deliveryId);
    } else if (event instanceof DeliveryCancelled) {
      this.sql.finish.run('cancelled', event.reason, at, event.cancelledAt, event.deliveryId);
    }
    if (due) this.due.notify();
  }


  delivery(organisationId: string, id: string): DeliveryView | undefined {
    const row = this.sql.byId.get(organisationId, id) as DeliveryRow | undefined;
    return row && toView(row);
  }

  /** Newest first; `before` is the cursor (the last seq of the previous page). */
  list(webhookId: string, filter: { status?: DeliveryStatus; before?: number; limit: number }): { items: DeliveryView[]; last: number | null } {
    const rows = this.sql.list.all(webhookId, filter.status ?? null, filter.before ?? null, filter.limit) as unknown as DeliveryRow[];
    return { items: rows.map(toView), last: rows.length ? rows[rows.length - 1].seq : null };
  }

  attempts(deliveryId: string): AttemptView[] {
    const rows = this.sql.attempts.all(deliveryId) as { attempt: number; succeeded: number; record: string }[];
    return rows.map((row) => ({ attempt: row.attempt, succeeded: row.succeeded === 1, ...(JSON.parse(row.record) as AttemptRecord) }));
  }

  health(webhookId: string): WebhookHealth {
    const row = this.sql.healthOf.get(webhookId) as Omit<WebhookHealth, 'success_rate'> | undefined;
    const recent = this.sql.recent.all(webhookId, HEALTH_WINDOW) as { succeeded: number }[];
    const successRate = recent.length ? Number((recent.filter((r) => r.succeeded === 1).length / recent.length).toFixed(4)) : null;
    return {
      attempts: row?.attempts ?? 0,
      successes: row?.successes ?? 0,
      consecutive_failures: row?.consecutive_failures ?? 0,
      success_rate: successRate,
      last_attempt_at: row?.last_attempt_at ?? null,
      last_success_at: row?.last_success_at ?? null,
      last_failure_at: row?.last_failure_at ?? null,
      last_status_code: row?.last_status_code ?? null,
    };
  }

  /**
   * What the scheduler reads of a webhook: the current run of failures and when the last one ended (the
   * circuit), until when the receiver asked to wait (back-pressure), and since when it has failed without a
   * success in between (auto-disable). Times in epoch ms.
   */
  streak(webhookId: string): WebhookStreak {
    const row = this.sql.streak.get(webhookId) as
      | { consecutive_failures: number; last_failure_at: string | null; paused_until: number | null; failing_since: string | null }
      | undefined;
    return streakOf(row);
  }

  /** Every webhook's streak (the circuit gauge). */
  streaks(): Map<string, WebhookStreak> {
    const rows = this.sql.streaks.all() as { webhook_id: string; consecutive_failures: number; last_failure_at: string | null; paused_until: number | null; failing_since: string | null }[];
    return new Map(rows.map((row) => [row.webhook_id, streakOf(row)]));
  }

  /** Webhooks with work due at `now` (epoch ms), with their organisations. */
  dueWebhooks(now: number): { webhookId: string; organisationId: string }[] {
    return (this.sql.dueWebhooks.all(now) as { webhook_id: string; organisation_id: string }[]).map((r) => ({
      webhookId: r.webhook_id,
      organisationId: r.organisation_id,
    }));
  }

  /** One webhook's due jobs, earliest first. */
  dueJobs(webhookId: string, now: number, limit: number): DeliveryJob[] {
    return (this.sql.dueJobs.all(webhookId, now, limit) as unknown as JobRow[]).map(toJob);
  }

  /** Due deliveries whose round started at or before `startedBy` (their deadline has passed), oldest first. */
  expiredJobs(startedBy: number, limit: number): DeliveryJob[] {
    return (this.sql.expired.all(startedBy, limit) as unknown as JobRow[]).map(toJob);
  }

  /** Epoch ms of the earliest start of a round still due, or null. */
  earliestRoundStart(): number | null {
    return (this.sql.nextRoundStart.get() as { next: number | null }).next;
  }

  /** Deliveries still to be made, per webhook. */
  backlog(): { webhookId: string; organisationId: string; due: number }[] {
    return (this.sql.backlog.all() as { webhook_id: string; organisation_id: string; due: number }[]).map((r) => ({
      webhookId: r.webhook_id,
      organisationId: r.organisation_id,
      due: r.due,
    }));
  }

  /** Epoch ms of the earliest due work, or null when none is pending. */
  nextDueAt(): number | null {
    return (this.sql.nextDue.get() as { next: number | null }).next;
  }

  failedSince(webhookId: string, since: string, until?: string): string[] {
    return (this.sql.failedSince.all(webhookId, since, until ?? null) as { id: string }[]).map((r) => r.id);
  }
}
