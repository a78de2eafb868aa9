import { Inject, Injectable } from '@nestjs/common';
import type { Principal } from '../auth/principal';
import { organisationNamedBy } from '../cqrs/request-context';
import { StreamNotFound } from '../event-store/event-store.errors';
import { EVENT_STORE, type EventStore, type RecordedEvent } from '../event-store/event-store.port';
import { notFound } from '../http/app-error';
import { AuditStreamsProjection } from './projections/audit-streams.projection';

const CACHE_LIMIT = 50_000;

/**
 * Who may read which stream. A stream belongs to the organisation its first event names (new events carry it
 * in their metadata; for older ones it is derived from the stream, as the stream index does); streams that
 * name none are the instance's own and readable by the instance admin only. An organisation's key asking for
 * a stream it may not read gets the same 404 as for a stream that does not exist.
 */
@Injectable()
export class AuditScope {
  /** stream → organisation (null: instance-level); bounded, oldest forgotten first. */
  private readonly cache = new Map<string, string | null>();

  constructor(
    @Inject(EVENT_STORE) private readonly store: EventStore,
    private readonly index: AuditStreamsProjection,
  ) {}

  /** The organisation a principal is confined to, or undefined for the instance admin (everything). */
  confinedTo(principal: Principal): string | undefined {
    return principal.kind === 'admin' ? undefined : principal.organisationId;
  }

  /** undefined: the stream has no events. */
  async organisationOfStream(stream: string): Promise<string | null | undefined> {
    const cached = this.cache.get(stream);
    if (cached !== undefined) return cached;
    const row = this.index.stream(stream);
    let organisation: string | null;
    if (row && row.organisation_id !== null) organisation = row.organisation_id;
    else {
      try {
        const [first] = await this.store.readStream(stream, { maxCount: 1 });
        organisation = organisationNamedBy(first.data, first.metadata) ?? null;
      } catch (error) {
        if (error instanceof StreamNotFound) return undefined;
        throw error;
      }
    }
    this.remember(stream, organisation);
    return organisation;
  }

  /** The organisation of one event: what it names itself, else its stream's. */
  async organisationOfEvent(event: RecordedEvent): Promise<string | null> {
    const named = organisationNamedBy(event.data, event.metadata);
    if (named !== undefined) return named;
    return (await this.organisationOfStream(event.stream)) ?? null;
  }

  async requireStream(principal: Principal, stream: string): Promise<string | null> {
    const organisation = await this.organisationOfStream(stream);
    if (organisation === undefined || !this.mayRead(principal, organisation)) throw notFound(`Stream '${stream}' not found`);
    return organisation;
  }

  mayRead(principal: Principal, organisation: string | null): boolean {
    return principal.kind === 'admin' || (organisation !== null && organisation === principal.organisationId);
  }

  private remember(stream: string, organisation: string | null): void {
    if (this.cache.size >= CACHE_LIMIT) this.cache.delete(this.cache.keys().next().value!);
    this.cache.set(stream, organisation);
  }
}
