import { Inject, Injectable } from '@nestjs/common';
import { CommandBus, type IEvent } from '@nestjs/cqrs';
import type { StatementSync } from 'node:sqlite';
import type { EventContext } from '../../cqrs/domain-event';
import { StoreConsumer, type StoreConsumerHandler } from '../../cqrs/store-consumer';
import {
  AlertAttached,
  IncidentAcknowledged,
  IncidentAssigned,
  IncidentClosed,
  IncidentOpened,
  IncidentReopened,
  IncidentResolutionFailed,
  IncidentResolutionVerified,
  IncidentResolved,
  IncidentSeverityChanged,
} from '../../incidents/events/incident.events';
import { READ_MODEL_DATABASE, type ReadModelDatabase } from '../../read-model/read-model.database';
import { SEVERITIES, type Grade, type Severity } from '../catalog/event-catalog';
import { RecordSecurityEvent } from '../commands/security-event.commands';
import type { SecurityEventDraft } from '../envelope';
import { derivedEventId } from '../ids';
import { gradeOf, isDegraded, postureScore, type OpenIncidents } from './posture-grade';

export const INCIDENTS_PRODUCER = 'outbound.incidents';

/** Who did it, from the event's metadata (`api-key:<id>`, `admin`, `system:<consumer>`). */
const actorOf = (context: EventContext): string | null => (typeof context.metadata.actor === 'string' ? context.metadata.actor : null);

interface IncidentFacts {
  id: string;
  organisation_id: string;
  project_id: string | null;
  number: string;
  title: string;
  severity: Severity;
  category: string | null;
  source: string;
  /** For grading: open (any unresolved state: open, acknowledged, needs manual triage), resolved or closed. */
  status: 'open' | 'resolved' | 'closed';
  resolved_at: string | null;
}

/**
 * Security events from the incident lifecycle (src/incidents):
 * - IncidentOpened → finding.created (the incident's severity);
 * - IncidentReopened as a regression → finding.regressed (always high);
 * - IncidentAssigned → finding.assigned, IncidentAcknowledged → finding.acknowledged,
 *   IncidentResolutionVerified → finding.resolution_verified, IncidentResolutionFailed →
 *   finding.resolution_failed (the incident counts as open again);
 * - any change to what is open in a project (opened, severity raised by an alert or set by triage, resolved,
 *   closed, reopened, a failed re-test) → its posture is re-graded (posture-grade.ts), and
 *   posture.grade_changed emitted when the grade moves, with from/to (high when degraded).
 * A reactor with bookkeeping: it keeps its own small tables of incident facts (declared in `tables`), fed in
 * $all order with the events it reacts to, so it never depends on another projection's progress; they are
 * facts for deciding what to emit, not a read model anyone queries. A new incident event is one more case in
 * `apply`.
 */
@StoreConsumer({
  name: INCIDENTS_PRODUCER,
  kind: 'reactor',
  tables: ['outbound_incidents', 'outbound_posture'],
  concurrency: 16,
  events: [
    IncidentOpened,
    AlertAttached,
    IncidentSeverityChanged,
    IncidentAssigned,
    IncidentAcknowledged,
    IncidentResolved,
    IncidentResolutionVerified,
    IncidentResolutionFailed,
    IncidentClosed,
    IncidentReopened,
  ],
})
@Injectable()
export class IncidentEventsProducer implements StoreConsumerHandler {
  private readonly sql: Record<string, StatementSync>;

  constructor(
    private readonly commands: CommandBus,
    @Inject(READ_MODEL_DATABASE) readModels: ReadModelDatabase,
  ) {
    const db = readModels.db;
    db.exec(`
      CREATE TABLE IF NOT EXISTS outbound_incidents (
        id TEXT PRIMARY KEY, organisation_id TEXT NOT NULL, project_id TEXT, number TEXT NOT NULL, title TEXT NOT NULL,
        severity TEXT NOT NULL, category TEXT, source TEXT NOT NULL, status TEXT NOT NULL, resolved_at TEXT
      );
      CREATE INDEX IF NOT EXISTS outbound_incidents_open ON outbound_incidents (organisation_id, project_id, status);
      CREATE TABLE IF NOT EXISTS outbound_posture (
        organisation_id TEXT NOT NULL, project_id TEXT NOT NULL, grade TEXT NOT NULL, score INTEGER NOT NULL,
        PRIMARY KEY (organisation_id, project_id)
      );
    `);
    this.sql = {
      get: db.prepare('SELECT * FROM outbound_incidents WHERE id = ?'),
      open: db.prepare(
        "INSERT OR IGNORE INTO outbound_incidents (id, organisation_id, project_id, number, title, severity, category, source, status) VALUES (?, ?, ?, ?, ?, ?, ?, ?, 'open')",
      ),
      severity: db.prepare('UPDATE outbound_incidents SET severity = ? WHERE id = ?'),
      status: db.prepare('UPDATE outbound_incidents SET status = ?, resolved_at = coalesce(?, resolved_at) WHERE id = ?'),
      openCounts: db.prepare(
        "SELECT severity, COUNT(*) AS n FROM outbound_incidents WHERE organisation_id = ? AND project_id = ? AND status = 'open' GROUP BY severity",
      ),
      grade: db.prepare('SELECT grade FROM outbound_posture WHERE organisation_id = ? AND project_id = ?'),
      setGrade: db.prepare(
        'INSERT INTO outbound_posture (organisation_id, project_id, grade, score) VALUES (?, ?, ?, ?) ' +
          'ON CONFLICT (organisation_id, project_id) DO UPDATE SET grade = excluded.grade, score = excluded.score',
      ),
      posture: db.prepare('SELECT grade, score FROM outbound_posture WHERE organisation_id = ? AND project_id = ?'),
    };
  }

  /**
   * A project's grade depends on all its open incidents, so a project's incidents are one partition (handled in
   * order); an incident without a project is its own.
   */
  partitionOf(event: IEvent, context: EventContext): string {
    const incident =
      event instanceof IncidentOpened
        ? { organisation_id: event.organisationId, project_id: event.projectId }
        : this.facts((event as { incidentId?: string }).incidentId ?? '');
    return incident?.project_id ? `posture-${incident.organisation_id}/${incident.project_id}` : context.stream;
  }

  async handle(event: IEvent, context: EventContext): Promise<void> {
    const incident = await this.apply(event, context);
    if (incident?.project_id) await this.regrade(incident.organisation_id, incident.project_id, context);
  }

  /** A project's current grade (A when nothing was ever open in it). */
  posture(organisationId: string, projectId: string): { grade: Grade; score: number } {
    const row = this.sql.posture.get(organisationId, projectId) as { grade: Grade; score: number } | undefined;
    return row ?? { grade: 'A', score: 0 };
  }

  /** Updates the facts and emits the finding events; returns the incident it concerned, if known. */
  private async apply(event: IEvent, context: EventContext): Promise<IncidentFacts | undefined> {
    if (event instanceof IncidentOpened) {
      this.sql.open.run(event.incidentId, event.organisationId, event.projectId, event.number, event.title, event.severity, event.category, event.source);
      await this.emit('finding.created', context, {
        event_type: 'finding.created',
        organisation_id: event.organisationId,
        project_id: event.projectId,
        data: {
          finding_id: event.incidentId,
          title: event.title,
          severity: event.severity,
          category: event.category,
          source: event.source,
          incident_number: event.number,
          detected_at: event.openedAt,
        },
      });
      return this.facts(event.incidentId);
    }
    const incident = this.facts((event as { incidentId?: string }).incidentId ?? '');
    if (!incident) return undefined;
    if (event instanceof AlertAttached) {
      if (event.action === 'trigger' && SEVERITIES.indexOf(event.alert.severity) > SEVERITIES.indexOf(incident.severity)) {
        this.sql.severity.run(event.alert.severity, incident.id);
      }
    } else if (event instanceof IncidentSeverityChanged) {
      this.sql.severity.run(event.to, incident.id);
    } else if (event instanceof IncidentAssigned) {
      await this.emit('finding.assigned', context, this.draft('finding.assigned', incident, {
        assignee: event.assignee,
        assigned_by: actorOf(context),
      }));
    } else if (event instanceof IncidentAcknowledged) {
      await this.emit('finding.acknowledged', context, this.draft('finding.acknowledged', incident, {
        acknowledged_by: actorOf(context),
        note: null,
      }));
    } else if (event instanceof IncidentResolved) {
      this.sql.status.run('resolved', event.resolvedAt, incident.id);
    } else if (event instanceof IncidentResolutionVerified) {
      await this.emit('finding.resolution_verified', context, this.draft('finding.resolution_verified', incident, {
        test_id: null,
        verified_at: event.verifiedAt,
        note: event.note,
      }));
    } else if (event instanceof IncidentResolutionFailed) {
      this.sql.status.run('open', null, incident.id);
      await this.emit('finding.resolution_failed', context, this.draft('finding.resolution_failed', incident, {
        test_id: null,
        reason: event.note,
      }));
    } else if (event instanceof IncidentClosed) {
      this.sql.status.run('closed', event.closedAt, incident.id);
    } else if (event instanceof IncidentReopened) {
      this.sql.status.run('open', null, incident.id);
      if (event.regression) {
        await this.emit('finding.regressed', context, {
          event_type: 'finding.regressed',
          organisation_id: incident.organisation_id,
          project_id: incident.project_id,
          data: {
            finding_id: incident.id,
            title: incident.title,
            original_severity: incident.severity,
            regression_count: event.regressionCount,
            previously_resolved_at: incident.resolved_at,
            category: incident.category,
            incident_number: incident.number,
          },
        });
      }
    }
    return incident;
  }

  private async regrade(organisationId: string, projectId: string, context: EventContext): Promise<void> {
    const open = Object.fromEntries(SEVERITIES.map((s) => [s, 0])) as OpenIncidents;
    for (const row of this.sql.openCounts.all(organisationId, projectId) as { severity: Severity; n: number }[]) open[row.severity] = row.n;
    const score = postureScore(open);
    const to = gradeOf(score);
    const from = ((this.sql.grade.get(organisationId, projectId) as { grade: Grade } | undefined)?.grade ?? 'A') as Grade;
    if (from !== to) {
      await this.emit(
        `posture/${projectId}`,
        context,
        {
          event_type: 'posture.grade_changed',
          organisation_id: organisationId,
          project_id: projectId,
          data: { from, to, degraded: isDegraded(from, to), score, open_incidents: { ...open } },
        },
        'posture',
      );
    }
    // Stored after emitting: a crash in between re-emits (under the same id) rather than losing the change.
    this.sql.setGrade.run(organisationId, projectId, to, score);
  }

  /** A lifecycle finding event about `incident`: its id, title and number, plus `data`. */
  private draft(type: string, incident: IncidentFacts, data: Record<string, string | null>): SecurityEventDraft {
    return {
      event_type: type,
      organisation_id: incident.organisation_id,
      project_id: incident.project_id,
      data: { finding_id: incident.id, title: incident.title, incident_number: incident.number, ...data },
    };
  }

  private facts(incidentId: string): IncidentFacts | undefined {
    return this.sql.get.get(incidentId) as IncidentFacts | undefined;
  }

  private async emit(kind: string, context: EventContext, draft: SecurityEventDraft, producer: 'incidents' | 'posture' = 'incidents'): Promise<void> {
    await this.commands.execute(new RecordSecurityEvent(draft, producer, derivedEventId(kind, context.id)));
  }
}
