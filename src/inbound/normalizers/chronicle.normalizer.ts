import { normalizeFallback } from './fallback.normalizer';
import { indicatorCollector } from './indicators';
import { rawSeverity, resolveSeverity, severityFromPercent, severityFromWord } from './severity';
import { occurredAt } from './time';
import type { JsonRecord, NormalizeContext, NormalizedAlert, VendorNormalizer } from './types';
import { buildAlert, derivedId, firstText, isRecord, record, text, title } from './values';

/**
 * Google Security Operations (Chronicle) detection, as the Detection Engine API returns it and as detection
 * webhooks forward it: {type: "RULE_DETECTION", id: "de_…", createdTime, detectionTime, timeWindow,
 * detection: [{ruleName, ruleId, ruleVersion, ruleType, alertState, ruleLabels: [{key, value}], outcomes:
 * [{key, value}], detectionFields: [{key, value}], riskScore, severity, urlBackToProduct}], collectionElements:
 * [{label, references: [{event: <UDM event>}]}]}; a list ({detections: [...]}) is one alert per detection.
 *
 * Severity: the detection's `severity`, a `severity` outcome or rule label (INFORMATIONAL, LOW, MEDIUM, HIGH,
 * CRITICAL, any case), else the risk score (riskScore or a `risk_score` outcome, 0–100) in bands of twenty.
 * A rule makes a new detection (a new de_ id) every time its match section matches again; detectionFields are
 * that match's variables, so the dedup key is the rule and those values: `chronicle:<ruleId>:<sha256 of the
 * fields>`. Host, user and indicators come from the UDM events of the collection elements (principal and
 * target: hostname, ip, user, url, file hashes, DNS questions) and from the outcome values.
 */
function detectionsOf(payload: unknown): unknown[] | undefined {
  if (!isRecord(payload)) return undefined;
  if (Array.isArray(payload.detections) && payload.detections.some(isDetection)) return payload.detections;
  return isDetection(payload) ? [payload] : undefined;
}

function isDetection(value: unknown): boolean {
  return isRecord(value) && Array.isArray(value.detection) && value.detection.some((d) => isRecord(d) && text(d.ruleName) !== undefined);
}

function matches(payload: unknown): payload is JsonRecord {
  return detectionsOf(payload) !== undefined;
}

/** [{key, value}] lists, keyed case-insensitively; a Map, because the keys are the rule author's text. */
function keyValues(value: unknown): Map<string, unknown> {
  const found = new Map<string, unknown>();
  if (!Array.isArray(value)) return found;
  for (const entry of value) {
    const key = isRecord(entry) ? text(entry.key) : undefined;
    if (key !== undefined && !found.has(key.toLowerCase())) found.set(key.toLowerCase(), entry.value);
  }
  return found;
}

function eventsOf(detection: JsonRecord): JsonRecord[] {
  const elements = Array.isArray(detection.collectionElements) ? detection.collectionElements : [];
  return elements.flatMap((element) => {
    const references = isRecord(element) && Array.isArray(element.references) ? element.references : [];
    return references.flatMap((reference) => {
      const event = record(reference, 'event');
      return event ? [event] : [];
    });
  });
}

function firstOfList(value: unknown): string | undefined {
  return Array.isArray(value) ? firstText(...value) : text(value);
}

function normalizeDetection(detection: JsonRecord, ctx: NormalizeContext): NormalizedAlert {
  const inner = (Array.isArray(detection.detection) ? detection.detection : []).find(isRecord) ?? {};
  const labels = keyValues(inner.ruleLabels);
  const outcomes = keyValues(inner.outcomes);
  const fields = Array.isArray(inner.detectionFields) ? inner.detectionFields : [];
  const events = eventsOf(detection);
  const principal = (event: JsonRecord) => record(event, 'principal') ?? {};
  const target = (event: JsonRecord) => record(event, 'target') ?? {};

  const rawWord = rawSeverity(firstText(inner.severity, outcomes.get('severity'), labels.get('severity')));
  const rawRisk = rawSeverity(firstText(inner.riskScore, outcomes.get('risk_score'), outcomes.get('riskscore')));
  // The rule's id without its revision: a new version of the rule still describes the same repeating match.
  const ruleId = firstText(inner.ruleId, text(inner.ruleVersion)?.split('@')[0]);
  // Only the match variables' names and values identify the match; anything else in the entries is not part of it.
  const matchValues = fields.flatMap((entry) => (isRecord(entry) && text(entry.key) !== undefined ? [[text(entry.key), text(entry.value) ?? null]] : []));

  const indicators = indicatorCollector();
  for (const event of events) {
    // metadata holds log ids and product names; mac addresses identify a card, not a threat.
    indicators.walk(event, (key) => key === 'metadata' || key === 'mac' || key === 'hostname');
    const dns = record(record(event, 'network'), 'dns');
    for (const question of Array.isArray(dns?.questions) ? dns.questions : []) indicators.domain(isRecord(question) ? question.name : undefined);
  }
  for (const value of outcomes.values()) indicators.text(typeof value === 'number' ? undefined : value);
  for (const entry of fields) if (isRecord(entry)) indicators.text(entry.value);

  const userOf = (side: JsonRecord) => {
    const user = record(side, 'user') ?? {};
    return firstText(user.userid, user.userDisplayName, firstOfList(user.emailAddresses));
  };

  return buildAlert({
    vendor: 'chronicle',
    vendor_alert_id:
      ruleId !== undefined && matchValues.length > 0
        ? `chronicle:${ruleId}:${derivedId(matchValues).slice('sha256:'.length)}`
        : (text(detection.id) ?? derivedId(detection)),
    title: title(firstText(inner.ruleName) ?? 'Google SecOps detection'),
    severity: resolveSeverity(ctx, (raw) => severityFromWord(raw) ?? severityFromPercent(raw), rawWord, rawRisk),
    raw_severity: rawWord ?? rawRisk,
    occurred_at: occurredAt(
      ctx.receivedAt,
      ...events.map((event) => record(event, 'metadata')?.eventTimestamp),
      record(detection, 'timeWindow')?.startTime,
      detection.detectionTime,
      detection.createdTime,
    ),
    category: firstText(labels.get('tactic'), labels.get('mitre_attack_tactic'), inner.ruleType) ?? null,
    host: firstText(
      text(outcomes.get('hostname')),
      ...events.map((event) => firstText(principal(event).hostname, record(principal(event), 'asset')?.hostname, target(event).hostname)),
    ),
    user: firstText(text(outcomes.get('user')), ...events.map((event) => userOf(principal(event)) ?? userOf(target(event)))),
    indicators: indicators.result(),
    action: 'trigger',
    normalization: 'vendor',
  });
}

function normalize(payload: JsonRecord, ctx: NormalizeContext): NormalizedAlert[] {
  const detections = detectionsOf(payload) ?? [payload];
  return detections.map((item) => (isDetection(item) && isRecord(item) ? normalizeDetection(item, ctx) : normalizeFallback(item, ctx)));
}

export const chronicleNormalizer: VendorNormalizer = { format: 'chronicle', matches, normalize };
