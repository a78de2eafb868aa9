import { Inject, Injectable } from '@nestjs/common';
import type { IEvent } from '@nestjs/cqrs';
import type { StatementSync } from 'node:sqlite';
import type { EventContext } from '../../cqrs/domain-event';
import { TableChanges } from '../../cqrs/table-changes';
import { StoreConsumer, type StoreConsumerHandler } from '../../cqrs/store-consumer';
import { IncidentNeedsManualTriage } from '../../incidents/events/incident.events';
import { READ_MODEL_DATABASE, type ReadModelDatabase } from '../../read-model/read-model.database';
import { TriageCompleted, TriageSkipped, TriageStarted, TriageStepCompleted, TriageStepFailed } from '../events/triage.events';

export const TRIAGE_RUNS_PROJECTION = 'triage-runs';

export interface RunnableIncident {
  incident_id: string;
  /** When its current run may take its next step (a retry's due time, or when the last step finished). */
  due_ms: number;
}

/**
 * Every triage run and when it may take its next step: the persisted due-time table the triage worker is
 * driven by — at start too, so an unfinished run (a crash mid-playbook, a retry waiting for its backoff) is
 * resumed from here, never from memory. Due times come from the events themselves, so a rebuild gives the
 * same table.
 */
@StoreConsumer({
  name: TRIAGE_RUNS_PROJECTION,
  tables: ['triage_runs'],
  queryIndexes: ['triage_runs_unfinished'],
  events: [TriageStarted, TriageStepCompleted, TriageStepFailed, TriageCompleted, TriageSkipped, IncidentNeedsManualTriage],
})
@Injectable()
export class TriageRunsProjection implements StoreConsumerHandler {
  /** Says which incident's runs changed, so the worker can look at it again. */
  readonly changes = new TableChanges<string>();
  private readonly sql: Record<string, StatementSync>;

  constructor(@Inject(READ_MODEL_DATABASE) readModels: ReadModelDatabase) {
    const db = readModels.db;
    db.exec(`
      CREATE TABLE IF NOT EXISTS triage_runs (
        run_id TEXT PRIMARY KEY, incident_id TEXT NOT NULL, playbook TEXT NOT NULL, trigger TEXT NOT NULL,
        -- The revision of the run's first event in the incident stream: runs of one incident go in this order.
        started_revision INTEGER NOT NULL, status TEXT NOT NULL, due_ms INTEGER, steps INTEGER NOT NULL, failures INTEGER NOT NULL,
        started_at TEXT NOT NULL, finished_at TEXT, verdict TEXT, score INTEGER
      );
      CREATE INDEX IF NOT EXISTS triage_runs_unfinished ON triage_runs (incident_id, started_revision) WHERE status IN ('pending', 'running');
    `);
    this.sql = {
      start: db.prepare(
        `INSERT OR IGNORE INTO triage_runs (run_id, incident_id, playbook, trigger, started_revision, status, due_ms, steps, failures, started_at)
         VALUES (?, ?, ?, ?, ?, 'pending', ?, 0, 0, ?)`,
      ),
      skip: db.prepare(
        `INSERT INTO triage_runs (run_id, incident_id, playbook, trigger, started_revision, status, steps, failures, started_at, finished_at)
         VALUES (?1, ?2, ?3, ?4, ?5, 'skipped', 0, 0, ?6, ?6)
         ON CONFLICT (run_id) DO UPDATE SET status = 'skipped', due_ms = NULL, finished_at = ?6`,
      ),
      step: db.prepare("UPDATE triage_runs SET status = 'running', due_ms = ?, steps = ? WHERE run_id = ?"),
      failed: db.prepare("UPDATE triage_runs SET status = 'running', due_ms = ?, failures = max(failures, ?) WHERE run_id = ?"),
      completed: db.prepare("UPDATE triage_runs SET status = 'completed', due_ms = NULL, finished_at = ?, verdict = ?, score = ? WHERE run_id = ?"),
      manual: db.prepare("UPDATE triage_runs SET status = 'failed', due_ms = NULL, finished_at = ? WHERE run_id = ?"),
      stepCount: db.prepare('SELECT steps FROM triage_runs WHERE run_id = ?'),
      runnable: db.prepare(
        `SELECT incident_id, due_ms FROM triage_runs r WHERE status IN ('pending', 'running')
           AND started_revision = (SELECT min(started_revision) FROM triage_runs WHERE incident_id = r.incident_id AND status IN ('pending', 'running'))
         ORDER BY due_ms LIMIT ?`,
      ),
      counts: db.prepare('SELECT playbook, status, count(*) AS n FROM triage_runs GROUP BY playbook, status'),
    };
  }

  handle(event: IEvent, context: EventContext): void {
    let incidentId: string;
    if (event instanceof TriageStarted) {
      incidentId = event.incidentId;
      this.sql.start.run(event.runId, incidentId, event.playbook, event.trigger, Number(context.revision), Date.parse(event.startedAt), event.startedAt);
    } else if (event instanceof TriageStepCompleted) {
      incidentId = event.incidentId;
      const steps = (this.sql.stepCount.get(event.runId) as { steps: number } | undefined)?.steps ?? 0;
      this.sql.step.run(Date.parse(event.completedAt), steps + 1, event.runId);
    } else if (event instanceof TriageStepFailed) {
      incidentId = event.incidentId;
      this.sql.failed.run(Date.parse(event.retryAt ?? event.failedAt), event.attempt, event.runId);
    } else if (event instanceof TriageCompleted) {
      incidentId = event.incidentId;
      this.sql.completed.run(event.completedAt, event.verdict, event.score, event.runId);
    } else if (event instanceof TriageSkipped) {
      incidentId = event.incidentId;
      this.sql.skip.run(event.runId, incidentId, event.playbook, event.trigger, Number(context.revision), event.skippedAt);
    } else if (event instanceof IncidentNeedsManualTriage) {
      incidentId = event.incidentId;
      this.sql.manual.run(event.at, event.runId);
    } else {
      return;
    }
    this.changes.notify(incidentId);
  }

  /** Incidents with an unfinished run, by the due time of their current run, earliest first. */
  runnable(limit: number): RunnableIncident[] {
    return this.sql.runnable.all(limit) as unknown as RunnableIncident[];
  }

  counts(): { playbook: string; status: string; n: number }[] {
    return this.sql.counts.all() as unknown as { playbook: string; status: string; n: number }[];
  }
}
