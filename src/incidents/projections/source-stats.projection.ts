import { Inject, Injectable } from '@nestjs/common';
import type { IEvent } from '@nestjs/cqrs';
import type { StatementSync } from 'node:sqlite';
import { StoreConsumer, type StoreConsumerHandler } from '../../cqrs/store-consumer';
import { SEVERITIES, type Severity } from '../../contracts/alert';
import { READ_MODEL_DATABASE, type ReadModelDatabase } from '../../read-model/read-model.database';
import { TriageCompleted, VERDICTS } from '../../triage/events/triage.events';
import {
  AlertAttached,
  INCIDENT_STATUSES,
  IncidentAcknowledged,
  IncidentClosed,
  IncidentNeedsManualTriage,
  IncidentOpened,
  IncidentReopened,
  IncidentResolutionFailed,
  IncidentResolutionVerified,
  IncidentResolved,
  IncidentSeverityChanged,
  type IncidentStatus,
} from '../events/incident.events';
import { canTransition } from '../incident-state-machine';
import { maxSeverity } from '../incident.aggregate';

export const SOURCE_STATS_PROJECTION = 'incident-source-stats';

export interface SourceStatsView {
  source: string;
  total: number;
  by_status: Record<IncidentStatus, number>;
  by_severity: Record<Severity, number>;
  /** `untriaged`: no triage verdict (yet). */
  by_verdict: Record<(typeof VERDICTS)[number] | 'untriaged', number>;
  /** From opening to the first response (acknowledged, resolved or closed); null until one has been. */
  mean_time_to_acknowledge_seconds: number | null;
  /** From opening to the first resolution or closure. */
  mean_time_to_resolve_seconds: number | null;
}

interface FactRow {
  status: IncidentStatus;
  severity: Severity;
  opened_ms: number;
}

const zeros = <K extends string>(keys: readonly K[]) => Object.fromEntries(keys.map((k) => [k, 0])) as Record<K, number>;

/**
 * Per-source statistics: counts by status, severity and verdict, and the mean times to acknowledge and to
 * resolve. It keeps one fact row per incident (so a redelivered event cannot count twice, and a rebuild from
 * position zero gives the same rows) and aggregates them when asked: statistics are read rarely, while
 * alerts arrive all the time, so the ingest path pays one indexed row update, never a recount.
 */
@StoreConsumer({
  name: SOURCE_STATS_PROJECTION,
  tables: ['incident_stats_facts'],
  queryIndexes: ['incident_stats_facts_by_source'],
  events: [
    IncidentOpened,
    AlertAttached,
    IncidentSeverityChanged,
    IncidentAcknowledged,
    IncidentResolved,
    IncidentResolutionVerified,
    IncidentResolutionFailed,
    IncidentClosed,
    IncidentReopened,
    IncidentNeedsManualTriage,
    TriageCompleted,
  ],
})
@Injectable()
export class SourceStatsProjection implements StoreConsumerHandler {
  private readonly sql: Record<string, StatementSync>;

  constructor(@Inject(READ_MODEL_DATABASE) readModels: ReadModelDatabase) {
    const db = readModels.db;
    db.exec(`
      CREATE TABLE IF NOT EXISTS incident_stats_facts (
        incident_id TEXT PRIMARY KEY, organisation_id TEXT NOT NULL, source TEXT NOT NULL, status TEXT NOT NULL,
        severity TEXT NOT NULL, verdict TEXT, opened_ms INTEGER NOT NULL, acknowledge_ms INTEGER, resolve_ms INTEGER
      );
      CREATE INDEX IF NOT EXISTS incident_stats_facts_by_source ON incident_stats_facts (organisation_id, source);
    `);
    const set = (assignments: string) => db.prepare(`UPDATE incident_stats_facts SET ${assignments} WHERE incident_id = :id`);
    this.sql = {
      open: db.prepare(
        "INSERT OR IGNORE INTO incident_stats_facts (incident_id, organisation_id, source, status, severity, opened_ms) VALUES (?, ?, ?, 'open', ?, ?)",
      ),
      fact: db.prepare('SELECT organisation_id, source, status, severity, opened_ms FROM incident_stats_facts WHERE incident_id = ?'),
      status: set('status = :status'),
      severity: set('severity = :severity'),
      verdict: set('verdict = :verdict'),
      responded: set('acknowledge_ms = coalesce(acknowledge_ms, :elapsed)'),
      settled: set('acknowledge_ms = coalesce(acknowledge_ms, :elapsed), resolve_ms = coalesce(resolve_ms, :elapsed)'),
      groups: db.prepare(
        `SELECT 'status' AS dimension, status AS value, count(*) AS n FROM incident_stats_facts WHERE organisation_id = ?1 AND source = ?2 GROUP BY status
         UNION ALL SELECT 'severity', severity, count(*) FROM incident_stats_facts WHERE organisation_id = ?1 AND source = ?2 GROUP BY severity
         UNION ALL SELECT 'verdict', coalesce(verdict, 'untriaged'), count(*) FROM incident_stats_facts WHERE organisation_id = ?1 AND source = ?2 GROUP BY 2`,
      ),
      means: db.prepare(
        'SELECT count(*) AS total, avg(acknowledge_ms) / 1000.0 AS ack, avg(resolve_ms) / 1000.0 AS resolve FROM incident_stats_facts WHERE organisation_id = ? AND source = ?',
      ),
      sources: db.prepare(
        'SELECT DISTINCT source FROM incident_stats_facts WHERE organisation_id = ?1 AND (?2 IS NULL OR source = ?2) ORDER BY source',
      ),
    };
  }

  handle(event: IEvent): void {
    if (event instanceof IncidentOpened) {
      this.sql.open.run(event.incidentId, event.organisationId, event.source, event.severity, Date.parse(event.openedAt));
      return;
    }
    const { incidentId } = event as { incidentId: string };
    const fact = this.sql.fact.get(incidentId) as (FactRow & { organisation_id: string; source: string }) | undefined;
    if (!fact) return;
    const id = incidentId;
    const elapsed = (at: string) => Date.parse(at) - fact.opened_ms;
    if (event instanceof AlertAttached) {
      if (event.action !== 'trigger') return;
      this.sql.severity.run({ id, severity: maxSeverity(fact.severity, event.alert.severity) });
    } else if (event instanceof IncidentSeverityChanged) {
      this.sql.severity.run({ id, severity: event.to });
    } else if (event instanceof IncidentAcknowledged) {
      this.sql.status.run({ id, status: 'acknowledged' });
      this.sql.responded.run({ id, elapsed: elapsed(event.acknowledgedAt) });
    } else if (event instanceof IncidentResolutionFailed) {
      this.sql.status.run({ id, status: 'acknowledged' });
      this.sql.responded.run({ id, elapsed: elapsed(event.failedAt) });
    } else if (event instanceof IncidentResolved) {
      this.sql.status.run({ id, status: 'resolved' });
      this.sql.settled.run({ id, elapsed: elapsed(event.resolvedAt) });
    } else if (event instanceof IncidentClosed) {
      this.sql.status.run({ id, status: 'closed' });
      this.sql.settled.run({ id, elapsed: elapsed(event.closedAt) });
    } else if (event instanceof IncidentResolutionVerified) {
      this.sql.status.run({ id, status: 'verified' });
    } else if (event instanceof IncidentReopened) {
      this.sql.status.run({ id, status: 'open' });
    } else if (event instanceof IncidentNeedsManualTriage) {
      if (canTransition(fact.status, 'needs_manual_triage')) this.sql.status.run({ id, status: 'needs_manual_triage' });
    } else if (event instanceof TriageCompleted) {
      this.sql.verdict.run({ id, verdict: event.verdict });
    }
  }

  /** The organisation's sources with incidents, by name; `source` narrows it to one. */
  stats(organisationId: string, source?: string): SourceStatsView[] {
    const sources = this.sql.sources.all(organisationId, source ?? null) as { source: string }[];
    return sources.map(({ source: name }) => {
      const counts = {
        status: zeros(INCIDENT_STATUSES) as Record<string, number>,
        severity: zeros(SEVERITIES) as Record<string, number>,
        verdict: zeros([...VERDICTS, 'untriaged']) as Record<string, number>,
      };
      for (const { dimension, value, n } of this.sql.groups.all(organisationId, name) as { dimension: keyof typeof counts; value: string; n: number }[]) {
        counts[dimension][value] = n;
      }
      const means = this.sql.means.get(organisationId, name) as { total: number; ack: number | null; resolve: number | null };
      return {
        source: name,
        total: means.total,
        by_status: counts.status as SourceStatsView['by_status'],
        by_severity: counts.severity as SourceStatsView['by_severity'],
        by_verdict: counts.verdict as SourceStatsView['by_verdict'],
        mean_time_to_acknowledge_seconds: means.ack,
        mean_time_to_resolve_seconds: means.resolve,
      };
    });
  }
}
