/**
 * Vendor times arrive as epoch seconds (Splunk trigger_time, _time), epoch milliseconds (CrowdStrike
 * eventCreationTime), numeric strings of either, or ISO 8601 text with any offset and any number of
 * fractional digits (Graph sends 7, Alertmanager 9). Everything leaves as toISOString() UTC.
 */

/** Below this an epoch is read as seconds: 1e11 s is the year 5138, 1e11 ms is March 1973. */
const SECONDS_LIMIT = 1e11;

const ISO =
  /^(\d{4})-(\d{2})-(\d{2})(?:[T ](\d{2}):(\d{2})(?::(\d{2})(?:[.,](\d+))?)?)?\s*(Z|[+-]\d{2}(?::?\d{2})?)?$/i;
const NUMERIC = /^-?\d+(?:\.\d+)?$/;
/** RFC 2822-style text is accepted only with an explicit zone: a zoneless date would depend on the server's TZ. */
const RFC2822_WITH_ZONE = /^(?:[A-Za-z]{3},\s*)?\d{1,2}\s+[A-Za-z]{3}\s+\d{4}\s+\d{2}:\d{2}(?::\d{2})?\s+(?:GMT|UTC|UT|[+-]\d{4})$/;

function fromEpoch(value: number): number | undefined {
  if (!Number.isFinite(value)) return undefined;
  return Math.abs(value) < SECONDS_LIMIT ? value * 1000 : value;
}

function fromIso(match: RegExpExecArray): number | undefined {
  const [, y, mo, d, h = '00', mi = '00', s = '00', fraction = '', zone = 'Z'] = match;
  // Zoneless ISO text is taken as UTC (Date.parse would use the server's local zone).
  const offset = zone.toUpperCase() === 'Z' ? 'Z' : normaliseOffset(zone);
  const millis = fraction.padEnd(3, '0').slice(0, 3);
  return Date.parse(`${y}-${mo}-${d}T${h}:${mi}:${s}.${millis}${offset}`);
}

function normaliseOffset(zone: string): string {
  const digits = zone.slice(1).replace(':', '').padEnd(4, '0');
  return `${zone[0]}${digits.slice(0, 2)}:${digits.slice(2, 4)}`;
}

/** Epoch milliseconds, or undefined when the value is not a usable time. */
export function parseTime(value: unknown): number | undefined {
  let ms: number | undefined;
  if (typeof value === 'number') ms = fromEpoch(value);
  else if (typeof value === 'string') {
    const trimmed = value.trim();
    const iso = ISO.exec(trimmed);
    if (NUMERIC.test(trimmed)) ms = fromEpoch(Number(trimmed));
    else if (iso) ms = fromIso(iso);
    else if (RFC2822_WITH_ZONE.test(trimmed)) ms = Date.parse(trimmed);
  }
  // Zero and earlier are "unset" markers (epoch 0, Go's 0001-01-01 in Alertmanager's endsAt), never real alert times.
  if (ms === undefined || Number.isNaN(ms) || ms <= 0) return undefined;
  return Number.isNaN(new Date(ms).getTime()) ? undefined : ms;
}

/** The first usable candidate as ISO UTC, else the time Towline received the payload. */
export function occurredAt(receivedAt: Date, ...candidates: unknown[]): string {
  for (const candidate of candidates) {
    const ms = parseTime(candidate);
    if (ms !== undefined) return new Date(ms).toISOString();
  }
  return receivedAt.toISOString();
}
