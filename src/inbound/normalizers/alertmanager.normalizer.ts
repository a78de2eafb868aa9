import { isIP } from 'node:net';
import { normalizeFallback } from './fallback.normalizer';
import { indicatorCollector } from './indicators';
import { elasticAlertsOf, isGrafanaPayload } from './shapes';
import { rawSeverity, resolveSeverity, severityFromWord } from './severity';
import { occurredAt } from './time';
import type { JsonRecord, NormalizeContext, NormalizedAlert, VendorNormalizer } from './types';
import { buildAlert, derivedId, firstText, isRecord, text, title } from './values';

/**
 * Prometheus Alertmanager webhook (version "4"; Grafana's webhook contact point sends a superset of it, which
 * grafana.normalizer.ts takes, so this one refuses payloads with Grafana's own fields):
 * one alert per item of `alerts`. The fingerprint is Alertmanager's hash of the label set and stays the same
 * from firing to resolved, so a resolved item finds the incident its firing item opened; without one the id
 * is derived from the labels alone, for the same reason. labels.severity is a convention, not a schema:
 * critical/page → critical, error → high, warning → medium, info/none → info (severity.ts holds the words).
 */
function matches(payload: unknown): payload is JsonRecord {
  return (
    isRecord(payload) &&
    Array.isArray(payload.alerts) &&
    payload.alerts.length > 0 &&
    (Object.hasOwn(payload, 'groupKey') || Object.hasOwn(payload, 'version')) &&
    !isGrafanaPayload(payload) &&
    elasticAlertsOf(payload) === undefined
  );
}

/**
 * Label and annotation names are the sender's: built with fromEntries (own data properties), a label named
 * `__proto__` stays a label instead of being handed to the prototype setter.
 */
function stringRecord(value: unknown): Record<string, string> {
  if (!isRecord(value)) return {};
  return Object.fromEntries(
    Object.entries(value).flatMap(([key, child]) => {
      const found = text(child);
      return found === undefined ? [] : [[key, found]];
    }),
  );
}

/** instance is the scrape target: host:port, [v6]:port, or a URL for blackbox probes. */
export function hostOfInstance(instance: string | undefined): string | undefined {
  if (instance === undefined) return undefined;
  if (/^[a-z][a-z0-9+.-]*:\/\//i.test(instance)) {
    try {
      return new URL(instance).hostname.replace(/^\[(.*)\]$/, '$1') || undefined;
    } catch {
      return instance;
    }
  }
  if (isIP(instance) === 6) return instance;
  const bracketed = /^\[([^\]]+)\](?::\d+)?$/.exec(instance);
  if (bracketed) return bracketed[1];
  return instance.replace(/:\d+$/, '');
}

/**
 * How a sender of this item shape reads it: Grafana's webhook (grafana.normalizer.ts) is Alertmanager's with
 * its own bookkeeping labels, a group title and a folder; everything else is the same mapping.
 */
export interface AlertmanagerDialect {
  vendor: 'alertmanager' | 'grafana';
  untitled: string;
  title(annotations: Record<string, string>, labels: Record<string, string>, payload: JsonRecord): string | undefined;
  category(labels: Record<string, string>): string | undefined;
  /** Label and annotation names that are the sender's bookkeeping, not evidence. */
  bookkeeping(key: string): boolean;
}

const ALERTMANAGER: AlertmanagerDialect = {
  vendor: 'alertmanager',
  untitled: 'Alertmanager alert',
  title: (annotations, labels) => firstText(annotations.summary, annotations.title, labels.alertname),
  category: (labels) => firstText(labels.category, labels.alertname),
  bookkeeping: () => false,
};

function normalizeItem(payload: JsonRecord, item: JsonRecord, ctx: NormalizeContext, dialect: AlertmanagerDialect): NormalizedAlert {
  const ownLabels = stringRecord(item.labels);
  // Items normally repeat the common labels; merging covers senders that only put them at the top.
  const labels = { ...stringRecord(payload.commonLabels), ...ownLabels };
  const annotations = { ...stringRecord(payload.commonAnnotations), ...stringRecord(item.annotations) };
  const resolved = (text(item.status) ?? text(payload.status)) === 'resolved';
  const raw = rawSeverity(labels.severity);

  const indicators = indicatorCollector();
  indicators.walk(labels, dialect.bookkeeping);
  // runbook_url, dashboard_url and the like link to the team's own tools, not to evidence.
  indicators.walk(annotations, (key) => /url$/i.test(key) || dialect.bookkeeping(key));

  return buildAlert({
    vendor: dialect.vendor,
    vendor_alert_id: text(item.fingerprint) ?? derivedId(Object.keys(ownLabels).length > 0 ? ownLabels : labels),
    title: title(dialect.title(annotations, labels, payload) ?? dialect.untitled),
    severity: resolveSeverity(ctx, severityFromWord, raw),
    raw_severity: raw,
    // A resolved item happened when it ended; a firing one when it started (endsAt is then Go's zero time or a
    // future expiry, never the event's time).
    occurred_at: resolved ? occurredAt(ctx.receivedAt, item.endsAt, item.startsAt) : occurredAt(ctx.receivedAt, item.startsAt),
    category: dialect.category(labels) ?? null,
    // An explicit host label is a statement about the affected machine; instance is only where Prometheus scraped.
    host: firstText(labels.host, labels.hostname, hostOfInstance(labels.instance)),
    indicators: indicators.result(),
    action: resolved ? 'resolve' : 'trigger',
    normalization: 'vendor',
  });
}

/** One alert per item of `alerts`, read in the sender's dialect. */
export function normalizeAlertmanagerItems(payload: JsonRecord, ctx: NormalizeContext, dialect: AlertmanagerDialect = ALERTMANAGER): NormalizedAlert[] {
  const alerts = Array.isArray(payload.alerts) ? payload.alerts : [];
  return alerts.map((item) => (isRecord(item) ? normalizeItem(payload, item, ctx, dialect) : normalizeFallback(item, ctx)));
}

export const alertmanagerNormalizer: VendorNormalizer = { format: 'alertmanager', matches, normalize: (payload, ctx) => normalizeAlertmanagerItems(payload, ctx) };
