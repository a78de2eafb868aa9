/**
 * A webhook's circuit, derived from its recorded health rather than kept in memory, so a restart (or another
 * instance reading the same events) sees the same state:
 * - closed while it has had fewer than `threshold` consecutive failed attempts;
 * - open for `cooldownMs` after the failure that reached (or extended) the streak: nothing is attempted;
 * - half-open after that: one attempt at a time is let through; a success closes it (the streak resets), a
 *   failure opens it again for another cool-down.
 * Deliveries wait while the circuit is open; waiting does not use up their retries.
 */
export type Circuit = { state: 'closed' } | { state: 'open'; until: number } | { state: 'half_open' };

export interface BreakerSettings {
  threshold: number;
  cooldownMs: number;
}

export function circuitOf(health: { consecutiveFailures: number; lastFailureAt: number | null }, settings: BreakerSettings, now: number): Circuit {
  if (health.consecutiveFailures < settings.threshold || health.lastFailureAt === null) return { state: 'closed' };
  const until = health.lastFailureAt + settings.cooldownMs;
  return now < until ? { state: 'open', until } : { state: 'half_open' };
}

/** How many more attempts to this webhook may start now, given those already in flight. */
export function allowance(circuit: Circuit, inFlight: number, endpointConcurrency: number): number {
  if (circuit.state === 'open') return 0;
  if (circuit.state === 'half_open') return inFlight === 0 ? 1 : 0;
  return Math.max(0, endpointConcurrency - inFlight);
}
