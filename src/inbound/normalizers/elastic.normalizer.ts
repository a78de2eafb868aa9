import { normalizeFallback } from './fallback.normalizer';
import { indicatorCollector } from './indicators';
import { valueAt } from './paths';
import { rawSeverity, resolveSeverity, severityFromWord } from './severity';
import { elasticAlertsOf, isElasticAlert } from './shapes';
import { occurredAt } from './time';
import type { JsonRecord, NormalizeContext, NormalizedAlert, Severity, VendorNormalizer } from './types';
import { buildAlert, derivedId, firstText, isRecord, text, title } from './values';

/**
 * Elastic Security detection rule, through a Webhook connector action. Kibana sends the body the rule's action
 * templates; the one Elastic's docs build from the rule action variables is the rule and its alerts,
 * `{"rule": {{#toJson}}context.rule{{/toJson}}, "alerts": {{#toJson}}context.alerts{{/toJson}}, ...}`, or the
 * whole `context` ({rule, alerts, results_link}). Each alert is an alert document: `kibana.alert.*` fields
 * (rule.name, rule.uuid, severity, risk_score, reason, original_time, uuid) beside the ECS fields of the source
 * event (host.name, user.name, source.ip, url.full, file.hash.sha256, ...), with dotted keys, nested objects or
 * both (paths.ts). One alert per element; a body that is a single alert document is one alert.
 *
 * Severity is the rule's: low, medium, high, critical; without it the risk score in Elastic's bands (0–21 low,
 * 22–47 medium, 48–73 high, 74–100 critical). A detection rule makes a new alert document (a new
 * kibana.alert.uuid) every time it matches again, so the dedup key is the rule and the host it fired on:
 * `elastic:<rule uuid>:<host.name>`; an alert without a host is its own incident (its uuid). Elastic sends no
 * recovery for detection rules, so every alert is a trigger.
 */
function matches(payload: unknown): payload is JsonRecord {
  return elasticAlertsOf(payload) !== undefined || isElasticAlert(payload);
}

function elasticRisk(raw: string): Severity | undefined {
  if (!/^\s*\d+(\.\d+)?\s*$/.test(raw)) return undefined;
  const score = Number(raw);
  if (score > 100) return undefined;
  return score >= 74 ? 'critical' : score >= 48 ? 'high' : score >= 22 ? 'medium' : 'low';
}

/** The first text among the alert's paths, then the rule object's (context.rule uses snake_case names). */
const field = (alert: JsonRecord, ...paths: string[]) => firstText(...paths.map((path) => valueAt(alert, path)));

/** Keys that hold Elastic's own bookkeeping (ids, rule parameters, agent metadata), not evidence: a 64-hex alert uuid is no file hash. */
const BOOKKEEPING = /^(kibana|signal|_id|_index|agent|ecs|elastic_agent|data_stream|event|id)(\.|$)|(^|\.)id$/;

function normalizeAlert(alert: JsonRecord, rule: JsonRecord, ctx: NormalizeContext): NormalizedAlert {
  const ruleUuid = field(alert, 'kibana.alert.rule.uuid', 'kibana.alert.rule.rule_id') ?? firstText(rule.id, rule.rule_id, rule.uuid);
  const host = field(alert, 'host.name', 'host.hostname');
  const rawWord = rawSeverity(field(alert, 'kibana.alert.severity', 'kibana.alert.rule.severity') ?? text(rule.severity));
  const rawRisk = rawSeverity(field(alert, 'kibana.alert.risk_score', 'kibana.alert.rule.risk_score') ?? text(rule.risk_score));
  const threat = valueAt(alert, 'kibana.alert.rule.threat');
  const tactic = Array.isArray(threat) ? firstText(...threat.map((t) => valueAt(t, 'tactic.name'))) : undefined;

  const indicators = indicatorCollector();
  indicators.walk(alert, (key) => BOOKKEEPING.test(key));
  // The ECS fields that name evidence outright, whichever nesting they came in.
  indicators.domain(valueAt(alert, 'dns.question.name'));
  indicators.domain(valueAt(alert, 'url.domain'));
  indicators.url(valueAt(alert, 'url.full'));
  indicators.email(valueAt(alert, 'email.from.address'));
  indicators.text(valueAt(alert, 'kibana.alert.reason'));

  return buildAlert({
    vendor: 'elastic',
    vendor_alert_id:
      ruleUuid !== undefined && host !== undefined
        ? `elastic:${ruleUuid}:${host.toLowerCase()}`
        : (field(alert, 'kibana.alert.uuid', '_id') ?? derivedId(alert)),
    title: title(field(alert, 'kibana.alert.rule.name') ?? firstText(rule.name) ?? 'Elastic Security alert'),
    severity: resolveSeverity(ctx, (raw) => severityFromWord(raw) ?? elasticRisk(raw), rawWord, rawRisk),
    raw_severity: rawWord ?? rawRisk,
    occurred_at: occurredAt(ctx.receivedAt, valueAt(alert, 'kibana.alert.original_time'), valueAt(alert, '@timestamp')),
    category: tactic ?? field(alert, 'kibana.alert.rule.type') ?? firstText(rule.type) ?? null,
    host,
    user: field(alert, 'user.name', 'user.email'),
    indicators: indicators.result(),
    action: 'trigger',
    normalization: 'vendor',
  });
}

function normalize(payload: JsonRecord, ctx: NormalizeContext): NormalizedAlert[] {
  const alerts = elasticAlertsOf(payload);
  if (alerts === undefined) return [normalizeAlert(payload, {}, ctx)];
  const context = isRecord(payload.context) ? payload.context : payload;
  const rule = isRecord(context.rule) ? context.rule : {};
  return alerts.map((item) => (isRecord(item) ? normalizeAlert(item, rule, ctx) : normalizeFallback(item, ctx)));
}

export const elasticNormalizer: VendorNormalizer = { format: 'elastic', matches, normalize };
