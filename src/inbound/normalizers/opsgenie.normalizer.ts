import { indicatorCollector } from './indicators';
import { parseTime } from './time';
import { rawSeverity, resolveSeverity, severityFromWord } from './severity';
import type { AlertAction, JsonRecord, NormalizeContext, NormalizedAlert, VendorNormalizer } from './types';
import { buildAlert, derivedId, firstText, isRecord, record, text, title } from './values';

/**
 * Opsgenie's Webhook integration (alert action data): {action, alert: {alertId, alias, tinyId, message,
 * description, details, tags, entity, priority, source, username, userId, createdAt, updatedAt, teams,
 * recipients}, source: {name, type}, integrationId, integrationName}. The alias is Opsgenie's own dedup key
 * (an alert created without one gets its alertId as alias), so it is the dedup key here too.
 * Actions: Create opens; Acknowledge acknowledges; Close resolves; every other action (AddNote, AddTag,
 * Escalate, AssignOwnership, ...) is about an alert Opsgenie already has, and attaches to its incident as a
 * repeat — the integration's action mapping can leave them out. Priorities P1 (critical) … P5 (info).
 * createdAt is in milliseconds, updatedAt in nanoseconds.
 */
const ACTIONS: ReadonlyMap<string, AlertAction> = new Map([
  ['create', 'trigger'],
  ['acknowledge', 'acknowledge'],
  ['close', 'resolve'],
]);

function matches(payload: unknown): payload is JsonRecord {
  const alert = record(payload, 'alert');
  return (
    isRecord(payload) &&
    text(payload.action) !== undefined &&
    alert !== undefined &&
    text(alert.alertId) !== undefined &&
    (Object.hasOwn(payload, 'integrationId') || Object.hasOwn(payload, 'integrationName') || Object.hasOwn(alert, 'alias'))
  );
}

/** Epoch milliseconds from Opsgenie's times, nanoseconds included (far past any millisecond date). */
function opsgenieTime(value: unknown): string | undefined {
  const n = typeof value === 'string' && /^\d+$/.test(value.trim()) ? Number(value) : value;
  const ms = typeof n === 'number' && n > 1e17 ? parseTime(Math.floor(n / 1e6)) : parseTime(n);
  return ms === undefined ? undefined : new Date(ms).toISOString();
}

function normalize(payload: JsonRecord, ctx: NormalizeContext): NormalizedAlert[] {
  const alert = record(payload, 'alert') ?? {};
  const details = record(alert, 'details') ?? {};
  const action = ACTIONS.get((text(payload.action) ?? '').toLowerCase()) ?? 'trigger';
  const raw = rawSeverity(alert.priority);

  const indicators = indicatorCollector();
  indicators.text(alert.message);
  indicators.text(alert.description);
  indicators.walk(details);

  const detail = (name: string) => (Object.hasOwn(details, name) ? text(details[name]) : undefined);
  return [
    buildAlert({
      vendor: 'opsgenie',
      vendor_alert_id: firstText(alert.alias, alert.alertId) ?? derivedId(payload),
      title: title(firstText(alert.message) ?? `Opsgenie alert ${text(alert.tinyId) ?? ''}`.trim()),
      severity: resolveSeverity(ctx, severityFromWord, raw),
      raw_severity: raw,
      occurred_at:
        (action === 'trigger' ? opsgenieTime(alert.createdAt) : (opsgenieTime(alert.updatedAt) ?? opsgenieTime(alert.createdAt))) ??
        ctx.receivedAt.toISOString(),
      category: null,
      // entity is "the entity the alert is related to", in practice the host or service.
      host: firstText(detail('host'), detail('hostname'), alert.entity),
      user: firstText(detail('user'), detail('username')),
      indicators: indicators.result(),
      action,
      normalization: 'vendor',
    }),
  ];
}

export const opsgenieNormalizer: VendorNormalizer = { format: 'opsgenie', matches, normalize };
