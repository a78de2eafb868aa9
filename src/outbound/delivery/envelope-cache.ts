import type { SecurityEnvelope } from '../envelope';
import { BoundedCache } from './bounded-cache';

const ENTRIES = 1_024;
/** Bounded by size too: an event's data can be large, and this must never grow with the traffic. */
const BYTES = 8 * 1024 * 1024;

/**
 * Security events by their place in the log (`stream@revision`, immutable there), for the deliveries made
 * from them. An event has one delivery per matching webhook, planned together and coming due together: in
 * the profile of bench/outbound.bench.ts each of them read the same event back from the store (a query, two
 * JSON parses and a hydration per delivery). The planner keeps one (DeliveryPlanner.planned) and puts each
 * event there as it plans it, and the attempts read it from there; one not there (planned by another
 * instance, or before a restart) is read from the log once, while its other deliveries wait for that read
 * instead of making their own.
 */
export class EnvelopeCache {
  private readonly entries = new BoundedCache<string, Promise<SecurityEnvelope>>(ENTRIES, BYTES);

  remember(stream: string, revision: bigint | string, envelope: SecurityEnvelope): void {
    this.entries.set(`${stream}@${revision}`, Promise.resolve(envelope), JSON.stringify(envelope).length);
  }

  /** The event at `stream@revision`, from here or from `read` (which must check it is the event expected). */
  async get(stream: string, revision: bigint | string, read: () => Promise<SecurityEnvelope>): Promise<SecurityEnvelope> {
    const key = `${stream}@${revision}`;
    const cached = this.entries.get(key);
    if (cached) return cached;
    const reading = read();
    this.entries.set(key, reading);
    try {
      const envelope = await reading;
      if (this.entries.get(key) === reading) this.entries.set(key, reading, JSON.stringify(envelope).length);
      return envelope;
    } catch (error) {
      if (this.entries.get(key) === reading) this.entries.delete(key);
      throw error;
    }
  }
}
