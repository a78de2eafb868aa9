import { SEVERITIES, type Severity } from '../../contracts/alert';
import type { SlaKind } from '../events/incident.events';

export const SLA_TARGETS = Symbol('SLA_TARGETS');

/** Seconds to acknowledge and to resolve, per severity. */
export type SlaTargets = Readonly<Record<Severity, Readonly<Record<SlaKind, number>>>>;

const MINUTE = 60;
const HOUR = 60 * MINUTE;
const DAY = 24 * HOUR;

/** Common SOC targets; TW_SLA_TARGETS overrides any of them (see docs/incidents.md). */
export const DEFAULT_SLA_TARGETS: SlaTargets = {
  critical: { acknowledge: 15 * MINUTE, resolve: 4 * HOUR },
  high: { acknowledge: 1 * HOUR, resolve: 1 * DAY },
  medium: { acknowledge: 4 * HOUR, resolve: 3 * DAY },
  low: { acknowledge: 1 * DAY, resolve: 7 * DAY },
  info: { acknowledge: 3 * DAY, resolve: 30 * DAY },
};

const UNITS: Record<string, number> = { s: 1, m: MINUTE, h: HOUR, d: DAY };
const ENTRY = /^\s*([a-z]+)\s*=\s*(\d+)([smhd])\s*\/\s*(\d+)([smhd])\s*$/;

/**
 * `critical=15m/4h,high=1h/1d` — severity=<acknowledge>/<resolve>, durations in s, m, h or d; severities not
 * named keep their defaults. The environment check (config.ts) has already refused malformed text; this
 * throws for what only the meaning can refuse.
 */
export function parseSlaTargets(text: string | undefined): SlaTargets {
  const targets: Record<string, Record<SlaKind, number>> = Object.fromEntries(
    SEVERITIES.map((severity) => [severity, { ...DEFAULT_SLA_TARGETS[severity] }]),
  );
  if (!text) return targets as SlaTargets;
  for (const entry of text.split(',')) {
    const match = ENTRY.exec(entry);
    if (!match || !(SEVERITIES as readonly string[]).includes(match[1])) {
      throw new Error(`TW_SLA_TARGETS: '${entry.trim()}' is not <severity>=<acknowledge>/<resolve> (e.g. high=1h/1d)`);
    }
    const acknowledge = Number(match[2]) * UNITS[match[3]];
    const resolve = Number(match[4]) * UNITS[match[5]];
    if (acknowledge <= 0 || resolve <= 0) throw new Error(`TW_SLA_TARGETS: '${entry.trim()}': targets must be positive`);
    targets[match[1]] = { acknowledge, resolve };
  }
  return targets as SlaTargets;
}

/** When the clock of `kind` runs out for an incident of `severity` opened at `openedAt` (ms since the epoch). */
export function dueMs(openedAt: string, severity: Severity, kind: SlaKind, targets: SlaTargets): number {
  return Date.parse(openedAt) + targets[severity][kind] * 1000;
}
