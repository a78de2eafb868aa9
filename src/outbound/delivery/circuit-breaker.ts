/**
 * A webhook's circuit, derived from its recorded health rather than kept in memory, so a restart (or another
 * instance reading the same events) sees the same state:
 * - closed while it has had fewer than `threshold` consecutive failed attempts;
 * - open for `cooldownMs` after the failure that reached (or extended) the streak: nothing is attempted;
 * - half-open after that: one attempt at a time is let through; a success closes it (the streak resets), a
 *   failure opens it again for another cool-down.
 * Deliveries wait while the circuit is open; waiting does not use up their retries.
 *
 * While closed, no more attempts are in flight than failures are left before the threshold: attempts already
 * on their way when the last allowed failure is recorded would otherwise all fail past it (two retries due
 * at the same moment after two failures, with a threshold of 3, made 4 — and the e2e test of the breaker
 * failed now and then on a busy machine). An endpoint that has not been failing keeps its whole lane (unless
 * the threshold is smaller than the lane); one that has started failing is given fewer attempts at a time as
 * it nears the threshold.
 */
export type Circuit = { state: 'closed'; failuresLeft: number } | { state: 'open'; until: number } | { state: 'half_open' };

export interface BreakerSettings {
  threshold: number;
  cooldownMs: number;
}

export function circuitOf(health: { consecutiveFailures: number; lastFailureAt: number | null }, settings: BreakerSettings, now: number): Circuit {
  if (health.consecutiveFailures < settings.threshold || health.lastFailureAt === null) {
    return { state: 'closed', failuresLeft: Math.max(1, settings.threshold - health.consecutiveFailures) };
  }
  const until = health.lastFailureAt + settings.cooldownMs;
  return now < until ? { state: 'open', until } : { state: 'half_open' };
}

/** How many more attempts to this webhook may start now, given those already in flight. */
export function allowance(circuit: Circuit, inFlight: number, endpointConcurrency: number): number {
  if (circuit.state === 'open') return 0;
  if (circuit.state === 'half_open') return inFlight === 0 ? 1 : 0;
  return Math.max(0, Math.min(endpointConcurrency, circuit.failuresLeft) - inFlight);
}
