import { hostOfInstance, stringRecord } from './alertmanager.normalizer';
import { normalizeFallback } from './fallback.normalizer';
import { indicatorCollector } from './indicators';
import { rawSeverity, resolveSeverity, severityFromWord } from './severity';
import { isGrafanaPayload } from './shapes';
import { occurredAt } from './time';
import type { JsonRecord, NormalizeContext, NormalizedAlert, VendorNormalizer } from './types';
import { buildAlert, derivedId, firstText, isRecord, text, title } from './values';

/**
 * Grafana alerting's webhook contact point. Its body is Alertmanager's webhook (receiver, status, alerts[],
 * groupLabels, commonLabels, commonAnnotations, externalURL, version, groupKey, truncatedAlerts) plus Grafana's
 * own fields: `orgId`, `state` ("alerting" / "ok"), `title` and `message` on the group, and on each alert
 * `values` (the query results by ref id), `valueString`, `silenceURL`, `dashboardURL`, `panelURL`, `imageURL`.
 * One alert per item; Grafana's fingerprint (of the label set) is the same from firing to resolved, so a
 * resolved item resolves the incident its firing item opened. labels.severity is the team's convention, read
 * like Alertmanager's (critical/page, error, warning, info); the source default applies without one. The links
 * point into Grafana itself, so they are no evidence.
 */
function matches(payload: unknown): payload is JsonRecord {
  return isRecord(payload) && Array.isArray(payload.alerts) && payload.alerts.length > 0 && isGrafanaPayload(payload);
}

function normalizeItem(payload: JsonRecord, item: JsonRecord, ctx: NormalizeContext): NormalizedAlert {
  const ownLabels = stringRecord(item.labels);
  const labels = { ...stringRecord(payload.commonLabels), ...ownLabels };
  const annotations = { ...stringRecord(payload.commonAnnotations), ...stringRecord(item.annotations) };
  const resolved = (text(item.status) ?? text(payload.status)) === 'resolved';
  const raw = rawSeverity(labels.severity);

  const indicators = indicatorCollector();
  // __alert_rule_uid__, grafana_folder and the like are Grafana's bookkeeping labels.
  indicators.walk(labels, (key) => key.startsWith('__') || key === 'grafana_folder');
  indicators.walk(annotations, (key) => /url$/i.test(key) || key.startsWith('__'));

  return buildAlert({
    vendor: 'grafana',
    vendor_alert_id: text(item.fingerprint) ?? derivedId(Object.keys(ownLabels).length > 0 ? ownLabels : labels),
    title: title(firstText(annotations.summary, labels.alertname, payload.title) ?? 'Grafana alert'),
    severity: resolveSeverity(ctx, severityFromWord, raw),
    raw_severity: raw,
    occurred_at: resolved ? occurredAt(ctx.receivedAt, item.endsAt, item.startsAt) : occurredAt(ctx.receivedAt, item.startsAt),
    category: firstText(labels.category, labels.grafana_folder, labels.alertname) ?? null,
    host: firstText(labels.host, labels.hostname, hostOfInstance(labels.instance)),
    indicators: indicators.result(),
    action: resolved ? 'resolve' : 'trigger',
    normalization: 'vendor',
  });
}

function normalize(payload: JsonRecord, ctx: NormalizeContext): NormalizedAlert[] {
  const alerts = Array.isArray(payload.alerts) ? payload.alerts : [];
  return alerts.map((item) => (isRecord(item) ? normalizeItem(payload, item, ctx) : normalizeFallback(item, ctx)));
}

export const grafanaNormalizer: VendorNormalizer = { format: 'grafana', matches, normalize };
