/** setTimeout's ceiling (about 24.8 days): a later due time is reached by waking at the ceiling and re-arming. */
export const MAX_TIMER_DELAY_MS = 2 ** 31 - 1;

/**
 * One wake-up at the earliest due time anyone asked for: the loop behind every "act when something comes
 * due" worker (deliveries, SLA clocks, triage retries). Due times always live in a read model; this only
 * decides when to look at it again, so it holds no state worth keeping across a restart.
 *
 * `wakeAt` keeps the earliest request: a later one never postpones an earlier one. The callback runs once
 * per wake-up and asks again for its own next time (from the read model) before it returns, so nothing is
 * polled while nothing is due. A time further away than setTimeout can wait wakes the callback at the
 * ceiling, which simply finds nothing due and asks again.
 */
export class DueTimeScheduler {
  private timer?: NodeJS.Timeout;
  private armedFor = Infinity;
  private stopped = false;

  constructor(private readonly run: () => void) {}

  /** Runs the callback at `atMs` (epoch ms) or earlier if something already asked for earlier. */
  wakeAt(atMs: number): void {
    if (this.stopped || Number.isNaN(atMs) || atMs >= this.armedFor) return;
    clearTimeout(this.timer);
    this.armedFor = atMs;
    const delay = Math.min(Math.max(0, atMs - Date.now()), MAX_TIMER_DELAY_MS);
    this.timer = setTimeout(() => {
      this.armedFor = Infinity;
      this.timer = undefined;
      this.run();
    }, delay);
  }

  /** Runs the callback as soon as the event loop allows. */
  wakeNow(): void {
    this.wakeAt(Date.now());
  }

  /** The time it will wake at, or Infinity when nothing is armed. */
  get nextWakeAt(): number {
    return this.armedFor;
  }

  /** No wake-up runs after this. */
  stop(): void {
    this.stopped = true;
    clearTimeout(this.timer);
    this.timer = undefined;
    this.armedFor = Infinity;
  }
}
