import { indicatorCollector } from './indicators';
import { rawSeverity, resolveSeverity, severityFromWord } from './severity';
import { occurredAt } from './time';
import type { JsonRecord, NormalizeContext, NormalizedAlert, Severity, VendorNormalizer } from './types';
import { buildAlert, derivedId, firstOf, firstText, isRecord, record, text, title } from './values';

/**
 * Splunk's webhook alert action: {result: {...first result's fields}, search_name, sid, results_link, app,
 * owner} (plus trigger_time in Towline's contract). The payload has no severity of its own: a `severity` or
 * `urgency` (Enterprise Security) field of the result is used, else the source default.
 * Splunk gives every run of a saved search a new search id (sid), so the sid cannot be the dedup key: the same
 * search firing again on the same machine would open a new incident each time. The key is the saved search and
 * the result's host — `splunk:<search_name>:<host>` (dest when there is no host) — or, when the source names a
 * field (NormalizeContext.dedupField), that field of the result instead of the host; an alert set to trigger
 * per result thus opens one incident per host. Without a search name the sid, else a derived id, stands in.
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

  const searchName = text(payload.search_name);
  const host = firstOf(result.host) ?? firstOf(result.dest);
  const keyValue =
    ctx.dedupField === undefined ? host : Object.hasOwn(result, ctx.dedupField) ? firstOf(result[ctx.dedupField]) : undefined;
  return [
    buildAlert({
      vendor: 'splunk',
      vendor_alert_id:
        searchName !== undefined ? `splunk:${searchName}:${(keyValue ?? '').toLowerCase()}` : (text(payload.sid) ?? derivedId(payload)),
      title: title(firstText(payload.search_name, firstOf(result.rule_title), firstOf(result.rule_name)) ?? 'Splunk alert'),
      severity: resolveSeverity(ctx, splunkSeverity, raw),
      raw_severity: raw,
      // trigger_time is when the alert fired; _time, the matched event's time, stands in when it is absent.
      occurred_at: occurredAt(ctx.receivedAt, payload.trigger_time, firstOf(result._time)),
      category: firstOf(result.category) ?? null,
      host,
      user: firstOf(result.user) ?? firstOf(result.src_user),
      indicators: indicators.result(),
      action: 'trigger',
      normalization: 'vendor',
    }),
  ];
}

export const splunkNormalizer: VendorNormalizer = { format: 'splunk', matches, normalize };
