import { indicatorCollector } from './indicators';
import { rawSeverity, resolveSeverity, severityFromAny } from './severity';
import { isTheHiveAlert } from './shapes';
import { occurredAt } from './time';
import type { JsonRecord, NormalizeContext, NormalizedAlert, VendorNormalizer } from './types';
import { buildAlert, derivedId, firstText, isRecord, record, text, title } from './values';

/**
 * Towline's own documented format: {event_type, timestamp, source, data: {alert_id, severity, details}}.
 * `source` names the sending system, which the URL (:source) already does, so it is not copied.
 * title/category/host/user are optional: read from data, then from data.details.
 */
function matches(payload: unknown): payload is JsonRecord {
  // A TheHive-style alert is the richer cousin: its own normalizer takes it even when it also looks like this.
  return isRecord(payload) && text(payload.event_type) !== undefined && isRecord(payload.data) && !isTheHiveAlert(payload);
}

function normalize(payload: JsonRecord, ctx: NormalizeContext): NormalizedAlert[] {
  const data = record(payload, 'data') ?? {};
  const details = record(data, 'details') ?? {};
  const eventType = text(payload.event_type) ?? 'alert';
  const raw = rawSeverity(data.severity);

  const indicators = indicatorCollector();
  // The alert's own id is not evidence, and a hex id would otherwise pass for a hash.
  indicators.walk(data, (key) => key === 'alert_id');

  return [
    buildAlert({
      vendor: 'generic',
      vendor_alert_id: text(data.alert_id) ?? derivedId(payload),
      title: title(firstText(data.title, details.title, data.summary, details.summary) ?? eventType),
      severity: resolveSeverity(ctx, severityFromAny, raw),
      raw_severity: raw,
      occurred_at: occurredAt(ctx.receivedAt, payload.timestamp, data.timestamp),
      category: firstText(data.category, details.category) ?? null,
      host: firstText(data.host, data.hostname, details.host, details.hostname),
      user: firstText(data.user, data.username, details.user, details.username),
      indicators: indicators.result(),
      action: 'trigger',
      normalization: 'vendor',
    }),
  ];
}

export const genericNormalizer: VendorNormalizer = { format: 'generic', matches, normalize };
