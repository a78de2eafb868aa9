import { indicatorCollector } from './indicators';
import { rawSeverity, resolveSeverity, severityFromWord } from './severity';
import { occurredAt } from './time';
import type { AlertAction, JsonRecord, NormalizeContext, NormalizedAlert, VendorNormalizer } from './types';
import { buildAlert, derivedId, firstText, isRecord, record, text, title } from './values';

/**
 * PagerDuty Events API v2: {routing_key, event_action, dedup_key, payload: {summary, source, severity,
 * timestamp, component, group, class, custom_details}, links, images}. acknowledge/resolve act on the incident
 * of the same dedup_key and usually carry no payload. Severities: critical → critical, error → high,
 * warning → medium, info → info. routing_key is the sender's credential for PagerDuty: nothing reads it,
 * and derived ids and indicator scans skip it (values.ts isSecretKey).
 */
const ACTIONS: readonly AlertAction[] = ['trigger', 'acknowledge', 'resolve'];

function actionOf(value: unknown): AlertAction | undefined {
  return ACTIONS.find((action) => action === value);
}

function matches(payload: unknown): payload is JsonRecord {
  return (
    isRecord(payload) &&
    actionOf(payload.event_action) !== undefined &&
    (isRecord(payload.payload) || text(payload.dedup_key) !== undefined)
  );
}

function normalize(payload: JsonRecord, ctx: NormalizeContext): NormalizedAlert[] {
  const action = actionOf(payload.event_action) ?? 'trigger';
  const body = record(payload, 'payload') ?? {};
  const dedupKey = text(payload.dedup_key);
  const raw = rawSeverity(body.severity);

  const indicators = indicatorCollector();
  indicators.text(body.summary);
  // links and images point at the sender's dashboards and graphs, not at evidence.
  indicators.walk(body.custom_details);

  return [
    buildAlert({
      vendor: 'pagerduty',
      // PagerDuty itself invents a key for a trigger without one; Towline derives a stable one instead.
      vendor_alert_id: dedupKey ?? derivedId(payload),
      title: title(firstText(body.summary) ?? (dedupKey ? `PagerDuty ${action}: ${dedupKey}` : `PagerDuty ${action}`)),
      severity: resolveSeverity(ctx, severityFromWord, raw),
      raw_severity: raw,
      occurred_at: occurredAt(ctx.receivedAt, body.timestamp),
      category: firstText(body.class) ?? null,
      // source is "the unique location of the affected system, preferably a hostname or FQDN".
      host: firstText(body.source),
      indicators: indicators.result(),
      action,
      normalization: 'vendor',
    }),
  ];
}

export const pagerdutyNormalizer: VendorNormalizer = { format: 'pagerduty', matches, normalize };
