import { normalizeAlertmanagerItems, type AlertmanagerDialect } from './alertmanager.normalizer';
import { isGrafanaPayload } from './shapes';
import type { JsonRecord, VendorNormalizer } from './types';
import { firstText, isRecord } from './values';

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

const GRAFANA: AlertmanagerDialect = {
  vendor: 'grafana',
  untitled: 'Grafana alert',
  title: (annotations, labels, payload) => firstText(annotations.summary, labels.alertname, payload.title),
  category: (labels) => firstText(labels.category, labels.grafana_folder, labels.alertname),
  // __alert_rule_uid__, grafana_folder and the like are Grafana's bookkeeping labels.
  bookkeeping: (key) => key.startsWith('__') || key === 'grafana_folder',
};

export const grafanaNormalizer: VendorNormalizer = {
  format: 'grafana',
  matches,
  normalize: (payload, ctx) => normalizeAlertmanagerItems(payload, ctx, GRAFANA),
};
