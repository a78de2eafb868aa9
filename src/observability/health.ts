import { Inject, Injectable } from '@nestjs/common';
import { APP_CONFIG, type AppConfig } from '../config/config';
import { ReadSideRunner, type ConsumerStatus } from '../cqrs/read-side.runner';
import { EVENT_STORE, type EventStore } from '../event-store/event-store.port';

const PING_TIMEOUT_MS = 2_000;

export interface Readiness {
  eventStore: AppConfig['eventStore']['kind'];
  storeOk: boolean;
  /** Empty when ready. Parked events are never a reason. */
  reasons: string[];
  parked: { consumer: string; count: number }[];
  consumers: ConsumerStatus[];
}

/** What /health, /health/ready and the metrics say about the store and the read side, from one place. */
@Injectable()
export class Health {
  constructor(
    @Inject(EVENT_STORE) private readonly store: EventStore,
    @Inject(APP_CONFIG) private readonly config: AppConfig,
    private readonly readSide: ReadSideRunner,
  ) {}

  async check(now = Date.now()): Promise<Readiness> {
    const storeOk = await Promise.race([
      this.store.ping().then(
        () => true,
        () => false,
      ),
      new Promise<boolean>((resolve) => setTimeout(resolve, PING_TIMEOUT_MS, false).unref()),
    ]);
    const consumers = this.readSide.status();
    const { maxLag, maxStallMs } = this.config.readSide;
    const reasons: string[] = storeOk ? [] : ['the event store does not answer'];
    if (this.readSide.failure) reasons.push(`the read side stopped: ${this.readSide.failure}; restart the instance`);
    for (const c of consumers) {
      if (c.state !== 'live') reasons.push(`consumer '${c.name}' is ${c.state.replace('_', ' ')}`);
      else if (c.lag !== null && c.lag > maxLag) reasons.push(`consumer '${c.name}' is ${c.lag} events behind (bound ${maxLag})`);
      if (c.stalledSince !== null && now - c.stalledSince > maxStallMs) {
        reasons.push(`consumer '${c.name}' has not finished a batch for ${Math.round((now - c.stalledSince) / 1000)} s`);
      }
    }
    return {
      eventStore: this.config.eventStore.kind,
      storeOk,
      reasons,
      parked: consumers.filter((c) => c.parked > 0).map((c) => ({ consumer: c.name, count: c.parked })),
      consumers,
    };
  }
}
