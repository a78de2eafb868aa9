import { normalizeFallback } from './fallback.normalizer';
import { indicatorCollector, type IndicatorCollector } from './indicators';
import { rawSeverity, resolveSeverity, severityFromWord } from './severity';
import { occurredAt } from './time';
import type { JsonRecord, NormalizeContext, NormalizedAlert, VendorNormalizer } from './types';
import { buildAlert, derivedId, firstText, isRecord, record, text, title } from './values';

/**
 * Microsoft Defender, in two shapes:
 * - the email-alert shape of Towline's webhook contract ({eventType, id, creationTime, severity, category,
 *   entityType, data: {sender, subject, recipients}});
 * - the Microsoft Graph security alert (alerts_v2, `#microsoft.graph.security.alert`), alone or as a
 *   collection ({value: [...]}, as Graph lists and notifications wrap them; a change notification's
 *   resourceData is used when it carries the alert).
 * Graph severities are informational/low/medium/high; 'unknown' means none, so the source default applies.
 * A Graph alert whose status is 'resolved' resolves its incident.
 */
const GRAPH_ALERT_TYPE = /^#?microsoft\.graph\.security\.alert$/i;
const GRAPH_ALERT_KEYS = ['serviceSource', 'detectionSource', 'evidence', 'providerAlertId', 'alertWebUrl'];

function isEmailAlert(payload: unknown): boolean {
  return isRecord(payload) && text(payload.eventType) !== undefined && text(payload.creationTime) !== undefined;
}

function isGraphAlert(value: unknown): boolean {
  if (!isRecord(value)) return false;
  const odataType = text(value['@odata.type']);
  if (odataType !== undefined) return GRAPH_ALERT_TYPE.test(odataType);
  return (
    text(value.id) !== undefined &&
    text(value.title) !== undefined &&
    Object.hasOwn(value, 'severity') &&
    GRAPH_ALERT_KEYS.some((key) => Object.hasOwn(value, key))
  );
}

/** The alert inside a collection item: the item itself, or a change notification's resourceData. */
function graphAlertOf(item: unknown): JsonRecord | undefined {
  if (isRecord(item) && isGraphAlert(item)) return item;
  const resourceData = record(item, 'resourceData');
  return isGraphAlert(resourceData) ? resourceData : undefined;
}

function isGraphCollection(payload: unknown): boolean {
  return isRecord(payload) && Array.isArray(payload.value) && payload.value.some((item) => graphAlertOf(item) !== undefined);
}

function matches(payload: unknown): payload is JsonRecord {
  return isRecord(payload) && (isEmailAlert(payload) || isGraphAlert(payload) || isGraphCollection(payload));
}

function normalizeEmailAlert(payload: JsonRecord, ctx: NormalizeContext): NormalizedAlert {
  const data = record(payload, 'data') ?? {};
  const eventType = text(payload.eventType) ?? 'Defender alert';
  const subject = text(data.subject);
  const recipients = Array.isArray(data.recipients) ? data.recipients.filter((r) => text(r) !== undefined) : [];
  const raw = rawSeverity(payload.severity);

  const indicators = indicatorCollector();
  indicators.email(data.sender);
  indicators.email(data.recipients);
  indicators.walk(data);

  return buildAlert({
    vendor: 'defender_o365',
    vendor_alert_id: text(payload.id) ?? derivedId(payload),
    title: title(firstText(payload.title, payload.name) ?? (subject ? `${eventType}: ${subject}` : eventType)),
    severity: resolveSeverity(ctx, severityFromWord, raw),
    raw_severity: raw,
    occurred_at: occurredAt(ctx.receivedAt, payload.creationTime),
    category: text(payload.category) ?? null,
    // The affected user of a message is its recipient; with several there is no one user to name.
    user: firstText(data.user, recipients.length === 1 ? recipients[0] : undefined),
    indicators: indicators.result(),
    action: 'trigger',
    normalization: 'vendor',
  });
}

function evidenceType(evidence: JsonRecord): string {
  const odataType = text(evidence['@odata.type']) ?? '';
  return odataType.slice(odataType.lastIndexOf('.') + 1);
}

/** Graph nests IPs as ipEvidence objects in some places (dnsEvidence, networkConnectionEvidence). */
function ipOf(value: unknown): unknown {
  return isRecord(value) ? value.ipAddress : value;
}

function fileHashes(indicators: IndicatorCollector, file: unknown): void {
  if (!isRecord(file)) return;
  indicators.hash(file.sha256);
  indicators.hash(file.sha1);
  indicators.hash(file.md5);
}

/** Evidence is read by type: free-text scanning would take device ids (40 hex) for SHA-1 hashes. */
function collectEvidence(indicators: IndicatorCollector, evidence: JsonRecord): void {
  switch (evidenceType(evidence)) {
    case 'analyzedMessageEvidence':
      indicators.ip(evidence.senderIp);
      for (const sender of [record(evidence, 'p1Sender'), record(evidence, 'p2Sender')]) {
        indicators.email(sender?.emailAddress);
        indicators.domain(sender?.domainName);
      }
      indicators.email(evidence.recipientEmailAddress);
      indicators.url(evidence.urls);
      break;
    case 'submissionMailEvidence':
      indicators.ip(evidence.senderIp);
      indicators.email(evidence.sender);
      indicators.email(evidence.recipient);
      break;
    case 'mailboxEvidence':
      indicators.email(evidence.primaryAddress);
      break;
    case 'urlEvidence':
      indicators.url(evidence.url);
      break;
    case 'ipEvidence':
      indicators.ip(evidence.ipAddress);
      break;
    case 'dnsEvidence':
      indicators.domain(evidence.domainName);
      indicators.ip(ipOf(evidence.hostIpAddress));
      if (Array.isArray(evidence.ipAddresses)) for (const ip of evidence.ipAddresses) indicators.ip(ipOf(ip));
      break;
    case 'networkConnectionEvidence':
      indicators.ip(ipOf(evidence.sourceAddress));
      indicators.ip(ipOf(evidence.destinationAddress));
      break;
    case 'fileEvidence':
      fileHashes(indicators, evidence.fileDetails);
      break;
    case 'processEvidence':
      fileHashes(indicators, evidence.imageFile);
      fileHashes(indicators, evidence.parentProcessImageFile);
      indicators.text(evidence.processCommandLine);
      break;
  }
}

function userOf(evidence: JsonRecord[]): string | undefined {
  for (const item of evidence) {
    if (evidenceType(item) !== 'userEvidence') continue;
    const account = record(item, 'userAccount');
    const found = firstText(account?.userPrincipalName, account?.accountName);
    if (found) return found;
  }
  const mailbox = evidence.find((item) => evidenceType(item) === 'mailboxEvidence');
  const messages = evidence.filter((item) => evidenceType(item) === 'analyzedMessageEvidence');
  return firstText(
    mailbox?.primaryAddress,
    record(mailbox, 'userAccount')?.userPrincipalName,
    messages.length === 1 ? messages[0]?.recipientEmailAddress : undefined,
  );
}

function normalizeGraphAlert(alert: JsonRecord, ctx: NormalizeContext): NormalizedAlert {
  const evidence = Array.isArray(alert.evidence) ? alert.evidence.filter(isRecord) : [];
  const device = evidence.find((item) => evidenceType(item) === 'deviceEvidence');
  const raw = rawSeverity(alert.severity);

  const indicators = indicatorCollector();
  for (const item of evidence) collectEvidence(indicators, item);

  return buildAlert({
    vendor: 'defender_o365',
    vendor_alert_id: text(alert.id) ?? derivedId(alert),
    title: title(firstText(alert.title) ?? 'Microsoft Defender alert'),
    severity: resolveSeverity(ctx, severityFromWord, raw),
    raw_severity: raw,
    occurred_at: occurredAt(ctx.receivedAt, alert.firstActivityDateTime, alert.createdDateTime),
    category: text(alert.category) ?? null,
    host: firstText(device?.deviceDnsName, device?.hostName),
    user: userOf(evidence),
    indicators: indicators.result(),
    action: text(alert.status) === 'resolved' ? 'resolve' : 'trigger',
    normalization: 'vendor',
  });
}

function normalize(payload: JsonRecord, ctx: NormalizeContext): NormalizedAlert[] {
  if (isGraphAlert(payload)) return [normalizeGraphAlert(payload, ctx)];
  if (isEmailAlert(payload)) return [normalizeEmailAlert(payload, ctx)];
  const items = Array.isArray(payload.value) ? payload.value : [];
  // Items of a collection that are not alerts still reach an analyst, as fallback alerts, rather than vanish.
  return items.map((item) => {
    const alert = graphAlertOf(item);
    return alert ? normalizeGraphAlert(alert, ctx) : normalizeFallback(item, ctx);
  });
}

export const defenderO365Normalizer: VendorNormalizer = { format: 'defender_o365', matches, normalize };
