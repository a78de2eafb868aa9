import { Inject, Injectable } from '@nestjs/common';
import type { Principal } from '../auth/principal';
import { StreamNotFound } from '../event-store/event-store.errors';
import { EVENT_STORE, encodePosition, type EventStore, type RecordedEvent } from '../event-store/event-store.port';
import { notFound } from '../http/app-error';
import { AuditScope } from './audit-scope';
import { AuditStreamsProjection, categoryOf, type LinkRow } from './projections/audit-streams.projection';

/** A trace stops growing here: one alert's chain is tens of events, a runaway expansion is a bug, not a trace. */
const MAX_EVENTS = 5_000;

export type TraceStage = 'receipt' | 'incident' | 'triage' | 'security_event' | 'delivery' | 'attempt' | 'other';

export interface TraceEvent {
  stage: TraceStage;
  position: string;
  stream: string;
  revision: number;
  id: string;
  type: string;
  created: string;
  correlation_id: string | null;
  causation_id: string | null;
  /** The event of this trace that caused it (by `$causationId`), or null. */
  caused_by: string | null;
  data: Record<string, unknown>;
}

export interface Trace {
  correlation_id: string;
  events: TraceEvent[];
}

function stageOf(event: RecordedEvent): TraceStage {
  const category = categoryOf(event.stream);
  if (category === 'alert') return 'receipt';
  if (event.type.startsWith('Triage')) return 'triage';
  if (category === 'incident' || category === 'incidentNumbers') return 'incident';
  if (category === 'securityEvent') return 'security_event';
  if (category === 'delivery') return event.type === 'DeliveryScheduled' ? 'delivery' : 'attempt';
  return 'other';
}

/**
 * The causal chain of a correlation id, in log order: webhook receipt → incident → triage steps → security
 * events → deliveries → each attempt. Towline's workers start their own correlations (a triage run's id, a
 * delivery's id, an incident's id for its SLA clocks), so the trace follows those too: from every event in it,
 * the events it caused, and the events correlated by the id of its stream or of the triage run it names.
 */
@Injectable()
export class AuditTrace {
  constructor(
    @Inject(EVENT_STORE) private readonly store: EventStore,
    private readonly index: AuditStreamsProjection,
    private readonly scope: AuditScope,
  ) {}

  async ofCorrelation(principal: Principal, correlationId: string): Promise<Trace> {
    const trace = await this.expand(principal, [correlationId]);
    if (trace.length === 0) throw notFound(`No events with correlation id '${correlationId}'`);
    return { correlation_id: correlationId, events: trace };
  }

  /** From an incident: every correlation its stream's events carry. */
  async ofIncident(principal: Principal, incidentId: string): Promise<Trace> {
    const stream = `incident-${incidentId}`;
    await this.scope.requireStream(principal, stream);
    const events = await this.store.readStream(stream, { maxCount: MAX_EVENTS }).catch((error: unknown) => {
      if (error instanceof StreamNotFound) return [];
      throw error;
    });
    const correlations = [...new Set(events.map((e) => e.metadata.$correlationId).filter((c): c is string => typeof c === 'string'))];
    const trace = await this.expand(principal, [incidentId, ...correlations]);
    return { correlation_id: correlations[0] ?? incidentId, events: trace };
  }

  private async expand(principal: Principal, seeds: string[]): Promise<TraceEvent[]> {
    const seen = new Map<number, LinkRow>();
    const correlations = new Set<string>();
    const causes = new Set<string>();
    const queue: { by: 'correlation' | 'causation'; id: string }[] = seeds.map((id) => ({ by: 'correlation', id }));
    const loaded = new Map<number, RecordedEvent>();
    while (queue.length > 0 && seen.size < MAX_EVENTS) {
      const next = queue.shift()!;
      for (const row of this.index.links(next.by, next.id, MAX_EVENTS)) {
        if (seen.has(row.position)) continue;
        seen.set(row.position, row);
        const event = await this.load(row);
        if (!event) continue;
        loaded.set(row.position, event);
        const follow = (id: unknown) => {
          if (typeof id === 'string' && !correlations.has(id)) {
            correlations.add(id);
            queue.push({ by: 'correlation', id });
          }
        };
        follow(row.correlation_id);
        follow(event.stream.slice(event.stream.indexOf('-') + 1));
        if (event.type === 'TriageStarted') follow(event.data.runId);
        if (!causes.has(row.event_id)) {
          causes.add(row.event_id);
          queue.push({ by: 'causation', id: row.event_id });
        }
      }
    }
    const ids = new Set([...loaded.values()].map((e) => e.id));
    const events: TraceEvent[] = [];
    for (const [position, event] of [...loaded].sort((a, b) => a[0] - b[0])) {
      if (!this.scope.mayRead(principal, await this.scope.organisationOfEvent(event))) continue;
      const causation = typeof event.metadata.$causationId === 'string' ? event.metadata.$causationId : null;
      events.push({
        stage: stageOf(event),
        position: encodePosition(event.position),
        stream: event.stream,
        revision: Number(event.revision),
        id: event.id,
        type: event.type,
        created: event.created.toISOString(),
        correlation_id: seen.get(position)!.correlation_id,
        causation_id: causation,
        caused_by: causation !== null && causation !== event.id && ids.has(causation) ? causation : null,
        data: event.data,
      });
    }
    return events;
  }

  private async load(row: LinkRow): Promise<RecordedEvent | undefined> {
    try {
      const [event] = await this.store.readStream(row.stream, { fromRevision: BigInt(row.revision), maxCount: 1 });
      return event && event.id === row.event_id ? event : undefined;
    } catch (error) {
      if (error instanceof StreamNotFound) return undefined;
      throw error;
    }
  }
}
