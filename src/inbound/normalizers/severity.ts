import { isSeverity, SEVERITIES, type NormalizeContext, type Severity } from './types';

export { isSeverity };

/**
 * The words vendors use, folded onto Towline's five levels. Syslog/PagerDuty/Alertmanager style levels sit
 * one step down from their name ('error' → high, 'warning' → medium) because those scales put 'critical'
 * above them. 'unknown' is deliberately absent: it means "no severity", so the source default applies.
 * A Map, not an object literal: the word is the sender's text, and `constructor` or `__proto__` must find
 * nothing rather than what every object inherits.
 */
const WORDS: ReadonlyMap<string, Severity> = new Map(Object.entries({
  critical: 'critical', crit: 'critical', fatal: 'critical', emergency: 'critical', emerg: 'critical',
  page: 'critical', disaster: 'critical',
  high: 'high', error: 'high', err: 'high', major: 'high', severe: 'high', important: 'high',
  medium: 'medium', moderate: 'medium', warning: 'medium', warn: 'medium', average: 'medium',
  low: 'low', minor: 'low', notice: 'low',
  info: 'info', informational: 'info', information: 'info', debug: 'info', none: 'info', ok: 'info',
  // Priority levels as Opsgenie and many ticketing tools send them, P1 being the most urgent.
  p1: 'critical', p2: 'high', p3: 'medium', p4: 'low', p5: 'info',
} satisfies Record<string, Severity>));

export function severityFromWord(raw: string): Severity | undefined {
  return WORDS.get(raw.trim().toLowerCase());
}

function integerIn(raw: string, min: number, max: number): number | undefined {
  if (!/^\s*\d+(\.0+)?\s*$/.test(raw)) return undefined;
  const n = Number(raw);
  return n >= min && n <= max ? n : undefined;
}

/** 1 informational … 5 critical (CrowdStrike DetectionSummaryEvent Severity). */
export function severityFromFivePoint(raw: string): Severity | undefined {
  const n = integerIn(raw, 1, 5);
  return n === undefined ? undefined : SEVERITIES[n - 1];
}

/**
 * 0–100 in bands of twenty, the bands CrowdStrike documents for its unified alert severity
 * (EppDetectionSummaryEvent): 0–19 informational, 20–39 low, 40–59 medium, 60–79 high, 80–100 critical.
 */
export function severityFromPercent(raw: string): Severity | undefined {
  if (!/^\s*\d+(\.\d+)?\s*$/.test(raw)) return undefined;
  const n = Number(raw);
  if (n > 100) return undefined;
  return SEVERITIES[Math.min(4, Math.floor(n / 20))];
}

/** A vendor's own text for its severity, or null: numbers become their decimal text. */
export function rawSeverity(value: unknown): string | null {
  if (typeof value === 'number' && Number.isFinite(value)) return String(value);
  if (typeof value === 'string' && value.trim() !== '') return value.trim();
  return null;
}

/**
 * Order: the source's configured severity_mapping (case-insensitive, tried on each raw value in turn), then the
 * vendor's documented mapping, then the source default ('medium' unless configured).
 */
export function resolveSeverity(
  ctx: NormalizeContext,
  vendorMapping: (raw: string) => Severity | undefined,
  ...raws: (string | null | undefined)[]
): Severity {
  const present = raws.filter((raw): raw is string => typeof raw === 'string' && raw !== '');
  if (ctx.severityMapping) {
    const configured = new Map<string, unknown>();
    for (const [key, value] of Object.entries(ctx.severityMapping)) configured.set(key.trim().toLowerCase(), value);
    for (const raw of present) {
      const mapped = configured.get(raw.toLowerCase());
      if (isSeverity(mapped)) return mapped;
    }
  }
  for (const raw of present) {
    const mapped = vendorMapping(raw);
    if (mapped) return mapped;
  }
  return ctx.defaultSeverity ?? 'medium';
}

/** For payloads without a documented scale: a known word, else 1–5, else 0–100 in the bands above. */
export function severityFromAny(raw: string): Severity | undefined {
  return severityFromWord(raw) ?? severityFromFivePoint(raw) ?? severityFromPercent(raw);
}
