import { indicatorCollector } from './indicators';
import { rawSeverity, resolveSeverity, severityFromWord } from './severity';
import { occurredAt } from './time';
import type { AlertAction, JsonRecord, NormalizeContext, NormalizedAlert, VendorNormalizer } from './types';
import { buildAlert, derivedId, firstText, isRecord, record, text, title } from './values';

/**
 * Microsoft Sentinel incident, as the "Microsoft Sentinel incident" trigger of a Logic App (run by an automation
 * rule) receives it: {eventUniqueId, objectSchemaType: "Incident", objectEventType: "Create" | "Update",
 * workspaceInfo, workspaceId, object: {id, name, etag, type: "Microsoft.SecurityInsights/Incidents", properties:
 * {title, description, severity, status, incidentNumber, incidentUrl, firstActivityTimeUtc, createdTimeUtc,
 * owner, labels, additionalData: {tactics, alertProductNames, ...}, alerts[], relatedEntities[]}}}.
 * A playbook that forwards the trigger body sends exactly that; one that forwards only `object` is accepted too.
 *
 * object.name (the incident's GUID) is the same in every Create and Update of one incident, so updates land on
 * its Towline incident: status Closed resolves it, an Update to Active (someone took it) acknowledges it.
 * Severities are High, Medium, Low, Informational. Related entities carry the evidence, one `kind` each:
 * Host (hostName, dnsDomain), Account (accountName, upnSuffix, ntDomain), Ip (address), Url (url), FileHash
 * (hashValue), DnsResolution (domainName), Mailbox (mailboxPrimaryAddress), MailMessage (sender, recipient).
 */
const INCIDENT_TYPE = /^microsoft\.securityinsights\/incidents$/i;

function incidentOf(payload: unknown): JsonRecord | undefined {
  if (!isRecord(payload)) return undefined;
  const object = record(payload, 'object');
  if (object && isRecord(object.properties) && (text(payload.objectSchemaType) === 'Incident' || INCIDENT_TYPE.test(text(object.type) ?? ''))) {
    return object;
  }
  // Only the incident object itself was forwarded.
  if (isRecord(payload.properties) && INCIDENT_TYPE.test(text(payload.type) ?? '')) return payload;
  return undefined;
}

function matches(payload: unknown): payload is JsonRecord {
  return incidentOf(payload) !== undefined;
}

const entitiesOf = (value: unknown): JsonRecord[] => (Array.isArray(value) ? value.filter(isRecord) : []);
const kindOf = (entity: JsonRecord) => (text(entity.kind) ?? '').toLowerCase();
const propertiesOf = (entity: JsonRecord) => record(entity, 'properties') ?? entity;

function hostName(entity: JsonRecord): string | undefined {
  const p = propertiesOf(entity);
  const host = text(p.hostName);
  const domain = text(p.dnsDomain);
  return host && domain && !host.includes('.') ? `${host}.${domain}` : firstText(host, p.netBiosName, p.friendlyName);
}

function accountName(entity: JsonRecord): string | undefined {
  const p = propertiesOf(entity);
  const name = text(p.accountName);
  const upnSuffix = text(p.upnSuffix);
  if (name && upnSuffix) return `${name}@${upnSuffix}`;
  const ntDomain = text(p.ntDomain);
  if (name && ntDomain) return `${ntDomain}\\${name}`;
  return firstText(name, p.friendlyName);
}

function actionOf(payload: JsonRecord, properties: JsonRecord): AlertAction {
  const status = (text(properties.status) ?? '').toLowerCase();
  if (status === 'closed') return 'resolve';
  if (status === 'active' && text(payload.objectEventType) === 'Update') return 'acknowledge';
  return 'trigger';
}

function normalize(payload: JsonRecord, ctx: NormalizeContext): NormalizedAlert[] {
  const incident = incidentOf(payload) ?? {};
  const properties = record(incident, 'properties') ?? {};
  const additional = record(properties, 'additionalData') ?? {};
  const entities = entitiesOf(properties.relatedEntities);
  const raw = rawSeverity(properties.severity);

  const indicators = indicatorCollector();
  let host: string | undefined;
  let user: string | undefined;
  for (const entity of entities) {
    const p = propertiesOf(entity);
    switch (kindOf(entity)) {
      case 'host':
        host ??= hostName(entity);
        break;
      case 'account':
        user ??= accountName(entity);
        break;
      case 'ip':
        indicators.ip(p.address);
        break;
      case 'url':
        indicators.url(p.url);
        break;
      case 'filehash':
        indicators.hash(p.hashValue);
        break;
      case 'dnsresolution':
        indicators.domain(p.domainName);
        break;
      case 'mailbox':
        indicators.email(p.mailboxPrimaryAddress);
        user ??= text(p.upn) ?? text(p.mailboxPrimaryAddress);
        break;
      case 'mailmessage':
        indicators.email(p.sender);
        indicators.email(p.p1Sender);
        indicators.email(p.p2Sender);
        indicators.ip(p.senderIP);
        break;
      default:
        break;
    }
  }
  // The description is the analytics rule's prose; it may name an address or a link the entities left out.
  indicators.text(properties.description);
  const tactics = Array.isArray(additional.tactics) ? additional.tactics : [];

  return [
    buildAlert({
      vendor: 'sentinel',
      vendor_alert_id: firstText(incident.name, properties.providerIncidentId, incident.id) ?? derivedId(payload),
      title: title(firstText(properties.title) ?? `Sentinel incident ${text(properties.incidentNumber) ?? ''}`.trim()),
      severity: resolveSeverity(ctx, severityFromWord, raw),
      raw_severity: raw,
      occurred_at: occurredAt(ctx.receivedAt, properties.firstActivityTimeUtc, properties.createdTimeUtc),
      category: firstText(...tactics) ?? null,
      host,
      user,
      indicators: indicators.result(),
      action: actionOf(payload, properties),
      normalization: 'vendor',
    }),
  ];
}

export const sentinelNormalizer: VendorNormalizer = { format: 'sentinel', matches, normalize };
