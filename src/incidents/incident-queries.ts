import { Inject, Injectable } from '@nestjs/common';
import { contextOf, hydrate } from '../cqrs/domain-event';
import { isWithin, ReadSideRunner, type AsOfCut } from '../cqrs/read-side.runner';
import { StreamNotFound } from '../event-store/event-store.errors';
import { EVENT_STORE, type EventStore, type RecordedEvent } from '../event-store/event-store.port';
import { invalidRequest, notFound } from '../http/app-error';
import { describeAsOf } from '../http/as-of';
import type { IncidentDetailDto, IncidentDto, IncidentPageDto, ListIncidentsQuery, SourceStatsDto, TimelineEntryDto } from './http/incidents.dto';
import { incidentStream } from './incident.aggregate';
import { IncidentsProjection, type IncidentCursor, type IncidentView } from './projections/incidents.projection';
import { SourceStatsProjection } from './projections/source-stats.projection';
import { SlaProjection } from './sla/sla.projection';
import { triageReport } from './triage-report';

/** The cursor is opaque to clients: base64url of the last incident's place in the order. */
function encodeCursor(cursor: IncidentCursor): string {
  return Buffer.from(JSON.stringify(cursor), 'utf8').toString('base64url');
}

function decodeCursor(text: string): IncidentCursor {
  try {
    const value = JSON.parse(Buffer.from(text, 'base64url').toString('utf8')) as unknown;
    if (Array.isArray(value) && value.length === 3 && typeof value[0] === 'string' && Number.isInteger(value[1]) && Number.isInteger(value[2])) {
      return value as IncidentCursor;
    }
  } catch {
    // answered below
  }
  throw invalidRequest('cursor is not a cursor this API returned', [{ field: 'cursor', problems: ['is invalid'] }]);
}

/**
 * What the incidents API answers: incidents from the read models, with their SLA and whether a parked event
 * makes them stale; an incident's triage runs and timeline straight from its own stream.
 */
@Injectable()
export class IncidentQueries {
  constructor(
    private readonly incidents: IncidentsProjection,
    private readonly statistics: SourceStatsProjection,
    private readonly sla: SlaProjection,
    private readonly readSide: ReadSideRunner,
    @Inject(EVENT_STORE) private readonly store: EventStore,
  ) {}

  /** By uuid or number (INC-2026-0001), in any case; another organisation's incident is not found, like an unknown one. */
  find(organisationId: string, idOrNumber: string): IncidentView {
    // Numbers are upper-case and ids lower-case; either is found whatever case it is typed in.
    const key = /^inc-/i.test(idOrNumber) ? idOrNumber.toUpperCase() : idOrNumber.toLowerCase();
    const incident = this.incidents.incident(organisationId, key);
    if (!incident) throw notFound(`Incident '${idOrNumber}' not found`);
    return incident;
  }

  /** The incident as it is now (after a change: the read models have caught up with it). */
  current(incident: IncidentView): IncidentView {
    return this.incidents.incident(incident.organisation_id, incident.id)!;
  }

  page(organisationId: string, query: ListIncidentsQuery): IncidentPageDto {
    const limit = query.limit ?? 50;
    const instant = (value: string | undefined) => (value === undefined ? undefined : new Date(value).toISOString());
    const { items, last } = this.incidents.incidents(organisationId, {
      status: query.status,
      severity: query.severity,
      source: query.source,
      projectId: query.project_id?.toLowerCase(),
      assignee: query.assignee,
      since: instant(query.since),
      until: instant(query.until),
      after: query.cursor === undefined ? undefined : decodeCursor(query.cursor),
      limit,
    });
    return { items: items.map((i) => this.withSla(i)), next_cursor: last && items.length === limit ? encodeCursor(last) : null };
  }

  stats(organisationId: string, source: string | undefined): SourceStatsDto[] {
    return this.statistics.stats(organisationId, source);
  }

  /**
   * The incident as it stood at `cut` (`?as_of=`): its read models rebuilt from its own stream up to then (the
   * incident's rows and its SLA come from that stream alone), its timeline and triage runs cut there too. Not
   * found when it did not exist yet. `stale` says whether it is stale now.
   */
  async detailAsOf(incident: IncidentView, cut: AsOfCut): Promise<IncidentDetailDto> {
    // One read of the incident's stream: both read models and the timeline are cut from it.
    const history = (await this.history(incident.id)).filter((recorded) => isWithin(recorded, cut));
    const then = this.readSide.asOf(IncidentsProjection, history, cut, (past) => {
      const view = past.incident(incident.organisation_id, incident.id);
      return view && { view, alerts: past.alerts(incident.id) };
    });
    if (!then) throw notFound(`Incident '${incident.number ?? incident.id}' did not exist yet at ${describeAsOf(cut)}`);
    const sla = this.readSide.asOf(SlaProjection, history, cut, (past) => past.sla(incident.id) ?? null);
    return { ...this.present(then.view, sla, history), alerts: then.alerts };
  }

  /** Alerts from the read model; triage runs and the timeline straight from the incident's stream. */
  async detail(incident: IncidentView): Promise<IncidentDetailDto> {
    const history = await this.history(incident.id);
    return { ...this.present(incident, this.sla.sla(incident.id) ?? null, history), alerts: this.incidents.alerts(incident.id) };
  }

  private present(incident: IncidentView, sla: IncidentDto['sla'], history: RecordedEvent[]): Omit<IncidentDetailDto, 'alerts'> {
    const timeline: TimelineEntryDto[] = history.map((recorded) => {
      const { revision, created, metadata } = contextOf(recorded);
      return { revision: Number(revision), type: recorded.type, at: created.toISOString(), actor: String(metadata.actor ?? 'system'), data: recorded.data };
    });
    const events = history.map(hydrate).filter((e) => e !== undefined);
    return { ...incident, sla, stale: this.readSide.isParked(incidentStream(incident.id)), triage_runs: triageReport(events), timeline };
  }

  private withSla(incident: IncidentView): IncidentDto {
    return { ...incident, sla: this.sla.sla(incident.id) ?? null, stale: this.readSide.isParked(incidentStream(incident.id)) };
  }

  private async history(incidentId: string): Promise<RecordedEvent[]> {
    try {
      return await this.store.readStream(incidentStream(incidentId));
    } catch (error) {
      if (error instanceof StreamNotFound) return [];
      throw error;
    }
  }
}
