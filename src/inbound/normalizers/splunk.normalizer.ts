import { indicatorCollector } from './indicators';
import { rawSeverity, resolveSeverity, severityFromWord } from './severity';
import { occurredAt } from './time';
import type { JsonRecord, NormalizeContext, NormalizedAlert, Severity, VendorNormalizer } from './types';
import { buildAlert, derivedId, firstOf, firstText, isRecord, record, text, title } from './values';

/**
 * Splunk's webhook alert action: {result: {...first result's fields}, search_name, sid, results_link, app,
 * owner} (plus trigger_time in Towline's contract). The payload has no severity of its own: a `severity` or
 * `urgency` (Enterprise Security) field of the result is used, else the source default.
 * vendor_alert_id is the search id (sid); an alert set to trigger per result sends one webhook per result
 * with the same sid, which then dedup onto one incident.
 */
function matches(payload: unknown): payload is JsonRecord {
  return isRecord(payload) && (Object.hasOwn(payload, 'search_name') || (isRecord(payload.result) && text(payload.sid) !== undefined));
}

/**
 * A numeric severity is Splunk's alert.severity scale, 1 debug, 2 info, 3 warn, 4 error, 5 severe, 6 fatal,
 * which Splunk Web shows as Info (1–2), Low, Medium, High, Critical. A Map, so that a field holding `toString`
 * or `valueOf` finds no level instead of an inherited method.
 */
const SPLUNK_LEVELS: ReadonlyMap<string, Severity> = new Map([['1', 'info'], ['2', 'info'], ['3', 'low'], ['4', 'medium'], ['5', 'high'], ['6', 'critical']]);

function splunkSeverity(raw: string): Severity | undefined {
  return severityFromWord(raw) ?? SPLUNK_LEVELS.get(raw.trim());
}

function normalize(payload: JsonRecord, ctx: NormalizeContext): NormalizedAlert[] {
  const result = record(payload, 'result') ?? {};
  const raw = rawSeverity(firstOf(result.severity) ?? firstOf(result.urgency));

  const indicators = indicatorCollector();
  // Underscore fields are Splunk's bookkeeping (_bkt, _cd, _si, ...), except _raw, the event itself.
  // results_link and the like point at Splunk, not at anything suspicious, so only the result is read.
  indicators.walk(result, (key) => key.startsWith('_') && key !== '_raw');

  return [
    buildAlert({
      vendor: 'splunk',
      vendor_alert_id: text(payload.sid) ?? derivedId(payload),
      title: title(firstText(payload.search_name, firstOf(result.rule_title), firstOf(result.rule_name)) ?? 'Splunk alert'),
      severity: resolveSeverity(ctx, splunkSeverity, raw),
      raw_severity: raw,
      // trigger_time is when the alert fired; _time, the matched event's time, stands in when it is absent.
      occurred_at: occurredAt(ctx.receivedAt, payload.trigger_time, firstOf(result._time)),
      category: firstOf(result.category) ?? null,
      host: firstOf(result.host) ?? firstOf(result.dest),
      user: firstOf(result.user) ?? firstOf(result.src_user),
      indicators: indicators.result(),
      action: 'trigger',
      normalization: 'vendor',
    }),
  ];
}

export const splunkNormalizer: VendorNormalizer = { format: 'splunk', matches, normalize };
