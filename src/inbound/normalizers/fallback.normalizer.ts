import { indicatorCollector } from './indicators';
import { rawSeverity, resolveSeverity, severityFromAny } from './severity';
import { occurredAt } from './time';
import type { JsonRecord, NormalizeContext, NormalizedAlert } from './types';
import { buildAlert, derivedId, isRecord, text, title } from './values';

/**
 * A payload no vendor shape fits is still accepted: one alert, best effort, marked normalization 'fallback'
 * so triage and the UI can tell it was guessed. Keys are looked up case-insensitively (vendors differ in
 * casing: 'Severity', 'severity') on the object itself, then one level down (data/alert/event wrappers).
 */
const TITLE_KEYS = ['title', 'name', 'summary', 'message', 'subject', 'alert_name', 'alertname', 'rule_name', 'event_type', 'eventtype', 'type', 'description'];
const SEVERITY_KEYS = ['severity', 'severity_name', 'severityname', 'level', 'priority', 'urgency', 'risk_level', 'risk'];
const TIME_KEYS = ['timestamp', '@timestamp', 'time', 'datetime', 'date', 'occurred_at', 'event_time', 'eventtime', 'created_at', 'createdat', 'creationtime', 'createddatetime', 'detected_at', '_time', 'ts'];
const CATEGORY_KEYS = ['category', 'classification'];
const HOST_KEYS = ['host', 'hostname', 'host_name', 'computer_name', 'computername', 'device_name', 'devicename'];
const USER_KEYS = ['user', 'username', 'user_name', 'userprincipalname', 'account_name', 'accountname'];

/** Text values of the record and of its direct child records, by lowercased key, the record's own first. */
function lookup(payload: JsonRecord): (keys: readonly string[]) => string | undefined {
  const layers = [payload, ...Object.values(payload).filter(isRecord)].map((layer) => {
    const byKey = new Map<string, string>();
    for (const [key, value] of Object.entries(layer)) {
      const found = text(value);
      const lower = key.toLowerCase();
      if (found !== undefined && !byKey.has(lower)) byKey.set(lower, found);
    }
    return byKey;
  });
  return (keys) => {
    for (const layer of layers) {
      for (const key of keys) {
        const found = layer.get(key);
        if (found !== undefined) return found;
      }
    }
    return undefined;
  };
}

export function normalizeFallback(payload: unknown, ctx: NormalizeContext): NormalizedAlert {
  const indicators = indicatorCollector();
  indicators.walk(payload);
  const base = {
    vendor: 'unknown' as const,
    vendor_alert_id: derivedId(payload),
    indicators: indicators.result(),
    action: 'trigger' as const,
    normalization: 'fallback' as const,
  };

  if (!isRecord(payload)) {
    const asText = typeof payload === 'string' ? text(payload) : undefined;
    return buildAlert({
      ...base,
      title: title(asText ?? 'Unrecognised alert'),
      severity: ctx.defaultSeverity ?? 'medium',
      raw_severity: null,
      occurred_at: ctx.receivedAt.toISOString(),
      category: null,
    });
  }

  const find = lookup(payload);
  const raw = rawSeverity(find(SEVERITY_KEYS));
  return buildAlert({
    ...base,
    title: title(find(TITLE_KEYS) ?? 'Unrecognised alert'),
    severity: resolveSeverity(ctx, severityFromAny, raw),
    raw_severity: raw,
    occurred_at: occurredAt(ctx.receivedAt, ...TIME_KEYS.map((key) => find([key]))),
    category: find(CATEGORY_KEYS) ?? null,
    host: find(HOST_KEYS),
    user: find(USER_KEYS),
  });
}
