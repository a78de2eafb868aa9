import { indicatorCollector, type IndicatorCollector } from './indicators';
import { rawSeverity, resolveSeverity, severityFromFivePoint, severityFromPercent, severityFromWord } from './severity';
import { occurredAt } from './time';
import type { JsonRecord, NormalizeContext, NormalizedAlert, Severity, VendorNormalizer } from './types';
import { buildAlert, derivedId, firstText, isRecord, record, text, title } from './values';

/**
 * CrowdStrike Falcon streaming API events ({metadata: {eventType, eventCreationTime (ms)}, event: {...}}):
 * - DetectionSummaryEvent (legacy): DetectId, Severity 1–5 (1 informational … 5 critical);
 * - EppDetectionSummaryEvent: CompositeId (AggregateId groups several), Severity 0–100 in CrowdStrike's
 *   bands (see severityFromPercent).
 * SeverityName, when sent, is the vendor's own reading of the number and wins over the scale; other event
 * types are normalized with the 0–100 scale and the first id they carry.
 */
function matches(payload: unknown): payload is JsonRecord {
  return isRecord(payload) && text(record(payload, 'metadata')?.eventType) !== undefined && isRecord(payload.event);
}

function scaleFor(eventType: string): (raw: string) => Severity | undefined {
  const numeric = eventType === 'DetectionSummaryEvent' ? severityFromFivePoint : severityFromPercent;
  return (raw) => severityFromWord(raw) ?? numeric(raw);
}

function records(value: unknown): JsonRecord[] {
  return Array.isArray(value) ? value.filter(isRecord) : [];
}

/** IOCType values are lowercase tokens such as hash_sha256, hash_md5, domain, ipv4, ipv6. */
function addIoc(indicators: IndicatorCollector, type: string | undefined, value: unknown): void {
  if (type === undefined) return;
  if (type.startsWith('hash_')) indicators.hash(value);
  else if (type === 'domain') indicators.domain(value);
  else if (type === 'ipv4' || type === 'ipv6') indicators.ip(value);
  else if (type === 'url') indicators.url(value);
}

function collect(event: JsonRecord): IndicatorCollector {
  const indicators = indicatorCollector();
  for (const key of ['SHA256String', 'SHA1String', 'MD5String', 'SHA256HashData', 'MD5HashData']) indicators.hash(event[key]);
  addIoc(indicators, text(event.IOCType)?.toLowerCase(), event.IOCValue);
  // The host's own addresses, so triage can find the machine by IP as well as by name.
  for (const key of ['LocalIP', 'LocalIPv4', 'LocalIPv6', 'ExternalIP']) indicators.ip(event[key]);
  for (const access of records(event.NetworkAccesses)) indicators.ip(access.RemoteAddress);
  for (const request of records(event.DnsRequests)) indicators.domain(request.DomainName);
  for (const file of [...records(event.QuarantineFiles), ...records(event.QuarantinedFiles)]) {
    indicators.hash(file.SHA256HashData);
    indicators.hash(file.MD5HashData);
  }
  // Command lines are where download cradles and C2 addresses show up.
  indicators.text(event.CommandLine);
  indicators.text(event.ParentCommandLine);
  return indicators;
}

function normalize(payload: JsonRecord, ctx: NormalizeContext): NormalizedAlert[] {
  const metadata = record(payload, 'metadata') ?? {};
  const event = record(payload, 'event') ?? {};
  const eventType = text(metadata.eventType) ?? 'event';
  const raw = rawSeverity(event.Severity) ?? rawSeverity(event.SeverityName);
  // The stream offset changes when Falcon re-sends an event, so it must not change a derived id.
  const { offset: _offset, ...stableMetadata } = metadata;

  return [
    buildAlert({
      vendor: 'crowdstrike',
      vendor_alert_id:
        firstText(event.CompositeId, event.DetectId, event.AggregateId, event.IncidentID) ??
        derivedId({ metadata: stableMetadata, event }),
      title: title(firstText(event.DetectName, event.Name, event.DetectDescription, event.Description) ?? `CrowdStrike ${eventType}`),
      severity: resolveSeverity(ctx, scaleFor(eventType), rawSeverity(event.SeverityName), raw),
      raw_severity: raw,
      occurred_at: occurredAt(ctx.receivedAt, metadata.eventCreationTime, event.Timestamp),
      category: firstText(event.Tactic, event.Technique, event.Objective) ?? null,
      host: firstText(event.HostnameField, event.ComputerName, event.Hostname),
      user: firstText(event.UserName),
      indicators: collect(event).result(),
      action: 'trigger',
      normalization: 'vendor',
    }),
  ];
}

export const crowdstrikeNormalizer: VendorNormalizer = { format: 'crowdstrike', matches, normalize };
