import { valueAt } from './paths';
import { isRecord, text } from './values';

/**
 * Shape tests that more than one normalizer needs, so that formats whose payloads overlap can each refuse the
 * other's: Grafana's webhook is a superset of Alertmanager's, an Elastic webhook body also carries `alerts[]`,
 * and a TheHive-style alert could carry the generic format's `event_type` and `data` too. With these, every
 * vendor payload fits exactly one normalizer (index.spec.ts checks it on every fixture), so detection order
 * is a tie-break that never has to decide.
 */

/** Fields Grafana adds to Alertmanager's webhook: `orgId`, `state` and `title`/`message` on the group, links and values on each alert. */
const GRAFANA_ITEM_KEYS = ['values', 'valueString', 'dashboardURL', 'panelURL', 'silenceURL', 'imageURL'];

export function isGrafanaPayload(payload: unknown): boolean {
  if (!isRecord(payload) || !Array.isArray(payload.alerts)) return false;
  if (Object.hasOwn(payload, 'orgId')) return true;
  return payload.alerts.some((item) => isRecord(item) && GRAFANA_ITEM_KEYS.some((key) => Object.hasOwn(item, key)));
}

/** An Elastic alert document: any `kibana.alert.*` field, dotted or nested. */
export function isElasticAlert(value: unknown): boolean {
  return (
    isRecord(value) &&
    ['kibana.alert.uuid', 'kibana.alert.rule.name', 'kibana.alert.rule.uuid', 'kibana.alert.severity', 'kibana.alert.reason'].some(
      (path) => valueAt(value, path) !== undefined,
    )
  );
}

/** The alerts of an Elastic webhook body: top-level `alerts`, or `context.alerts` when the whole context was sent. */
export function elasticAlertsOf(payload: unknown): unknown[] | undefined {
  if (!isRecord(payload)) return undefined;
  const context = isRecord(payload.context) ? payload.context : payload;
  const alerts = context.alerts;
  return Array.isArray(alerts) && alerts.some(isElasticAlert) ? alerts : undefined;
}

/** TheHive's alert: `type`, `source` and `sourceRef` are its identity (TheHive refuses a second alert with the same three). */
export function isTheHiveAlert(payload: unknown): boolean {
  return (
    isRecord(payload) &&
    text(payload.type) !== undefined &&
    text(payload.source) !== undefined &&
    text(payload.sourceRef) !== undefined
  );
}
