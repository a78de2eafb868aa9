import { Inject, Injectable } from '@nestjs/common';
import { hydrate, toEventData } from '../cqrs/domain-event';
import { eventMetadata } from '../cqrs/request-context';
import { StreamNotFound, WrongExpectedVersion } from '../event-store/event-store.errors';
import { EVENT_STORE, type EventStore, type ExpectedRevision, type JsonObject } from '../event-store/event-store.port';
import { conflict } from '../http/app-error';
import { IncidentNumberClaimed } from './events/incident.events';

export const incidentNumbersStream = (organisationId: string, year: number) => `incidentNumbers-${organisationId}.${year}`;

/** Other instances appending to the same counter (several Towlines on one EventStoreDB) make an append fail. */
const MAX_ATTEMPTS = 20;

interface Claim {
  incidentId: string;
  metadata: JsonObject;
  resolve(sequence: number): void;
  reject(error: unknown): void;
}

/**
 * One organisation's counter for one year. Claims wait in an in-process queue; whatever has gathered while
 * the previous append was on its way is appended as one batch, with the counter's revision as expectation.
 * So 200 simultaneous incidents make a handful of appends, none of which conflicts with another from this
 * process; a conflict can only come from another instance, and is answered by reading its claims and
 * trying again.
 */
class Counter {
  private revision: ExpectedRevision = 'no_stream';
  private loaded = false;
  private last = 0;
  private readonly byIncident = new Map<string, number>();
  private waiting: Claim[] = [];
  private draining = false;

  constructor(
    private readonly store: EventStore,
    private readonly stream: string,
    private readonly organisationId: string,
    private readonly year: number,
  ) {}

  claim(incidentId: string, metadata: JsonObject): Promise<number> {
    const known = this.byIncident.get(incidentId);
    if (known !== undefined) return Promise.resolve(known);
    return new Promise((resolve, reject) => {
      this.waiting.push({ incidentId, metadata, resolve, reject });
      if (!this.draining) void this.drain();
    });
  }

  private async drain(): Promise<void> {
    this.draining = true;
    try {
      while (this.waiting.length > 0) {
        const batch = this.waiting;
        this.waiting = [];
        try {
          await this.assign(batch);
          for (const claim of batch) claim.resolve(this.byIncident.get(claim.incidentId)!);
        } catch (error) {
          for (const claim of batch) claim.reject(error);
        }
      }
    } finally {
      this.draining = false;
    }
  }

  private async assign(batch: Claim[]): Promise<void> {
    if (!this.loaded) await this.readNewClaims();
    for (let attempt = 1; ; attempt++) {
      const fresh = [...new Map(batch.filter((c) => !this.byIncident.has(c.incidentId)).map((c) => [c.incidentId, c])).values()];
      if (fresh.length === 0) return;
      const claims = fresh.map((c, i) => ({ claim: c, event: new IncidentNumberClaimed(this.organisationId, this.year, this.last + 1 + i, c.incidentId) }));
      try {
        const result = await this.store.append(
          this.stream,
          claims.map(({ claim, event }) => toEventData(event, claim.metadata)),
          { expectedRevision: this.revision },
        );
        for (const { event } of claims) this.record(event);
        this.revision = result.nextExpectedRevision;
        return;
      } catch (error) {
        if (!(error instanceof WrongExpectedVersion)) throw error;
        if (attempt >= MAX_ATTEMPTS) throw conflict('Incident numbers are being claimed concurrently; retry the request');
        await new Promise((resolve) => setTimeout(resolve, Math.random() * 5 * attempt));
        await this.readNewClaims();
      }
    }
  }

  private async readNewClaims(): Promise<void> {
    const fromRevision = this.revision === 'no_stream' ? 'start' : (this.revision as bigint) + 1n;
    try {
      for (const recorded of await this.store.readStream(this.stream, { fromRevision })) {
        const event = hydrate(recorded);
        if (event instanceof IncidentNumberClaimed) this.record(event);
        this.revision = recorded.revision;
      }
    } catch (error) {
      if (!(error instanceof StreamNotFound)) throw error;
    }
    this.loaded = true;
  }

  private record(event: IncidentNumberClaimed): void {
    this.byIncident.set(event.incidentId, event.sequence);
    this.last = Math.max(this.last, event.sequence);
  }
}

/** Gap-free, unique incident sequences per organisation and year; see Counter. */
@Injectable()
export class IncidentNumbers {
  private readonly counters = new Map<string, Counter>();

  constructor(@Inject(EVENT_STORE) private readonly store: EventStore) {}

  /** The incident's sequence: the one it already has, or the next free one. */
  claim(organisationId: string, year: number, incidentId: string): Promise<number> {
    const stream = incidentNumbersStream(organisationId, year);
    let counter = this.counters.get(stream);
    if (!counter) this.counters.set(stream, (counter = new Counter(this.store, stream, organisationId, year)));
    return counter.claim(incidentId, eventMetadata());
  }
}
