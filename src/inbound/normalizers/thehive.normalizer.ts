import { indicatorCollector } from './indicators';
import { rawSeverity, resolveSeverity, severityFromWord } from './severity';
import { isTheHiveAlert } from './shapes';
import { occurredAt } from './time';
import type { JsonRecord, NormalizeContext, NormalizedAlert, Severity, VendorNormalizer } from './types';
import { buildAlert, firstText, isRecord, text, title } from './values';

/**
 * A TheHive-style alert, as TheHive's alert API takes it and as many tools (and SOAR glue) emit it: {type,
 * source, sourceRef, title, description, severity, date, tags, tlp, pap, externalLink, observables: [{dataType,
 * data, message, tags, ioc}]} (`artifacts` in TheHive 3). TheHive refuses a second alert with the same type,
 * source and sourceRef, so those three are the dedup key. Severity 1 low, 2 medium, 3 high, 4 critical (words
 * are read too). Observables are typed evidence: ip, domain/fqdn, url, mail, hash, hostname (the host), and
 * user/username (the user); other types are scanned as text.
 */
const LEVELS: ReadonlyMap<string, Severity> = new Map([['1', 'low'], ['2', 'medium'], ['3', 'high'], ['4', 'critical']]);

function matches(payload: unknown): payload is JsonRecord {
  return isTheHiveAlert(payload);
}

function observablesOf(payload: JsonRecord): JsonRecord[] {
  const list = Array.isArray(payload.observables) ? payload.observables : Array.isArray(payload.artifacts) ? payload.artifacts : [];
  return list.filter(isRecord);
}

function normalize(payload: JsonRecord, ctx: NormalizeContext): NormalizedAlert[] {
  const raw = rawSeverity(payload.severity);
  const indicators = indicatorCollector();
  let host: string | undefined;
  let user: string | undefined;
  for (const observable of observablesOf(payload)) {
    const data = observable.data;
    switch ((text(observable.dataType) ?? '').toLowerCase()) {
      case 'ip':
        indicators.ip(data);
        break;
      case 'domain':
      case 'fqdn':
        indicators.domain(data);
        break;
      case 'url':
        indicators.url(data);
        break;
      case 'mail':
      case 'email':
        indicators.email(data);
        break;
      case 'hash':
        indicators.hash(data);
        break;
      case 'hostname':
        host ??= text(data);
        break;
      case 'user':
      case 'username':
      case 'user-account':
        user ??= text(data);
        break;
      default:
        indicators.text(data);
    }
  }
  indicators.text(payload.description);

  return [
    buildAlert({
      vendor: 'thehive',
      vendor_alert_id: `${text(payload.type)}:${text(payload.source)}:${text(payload.sourceRef)}`,
      title: title(firstText(payload.title) ?? `${text(payload.type)} alert from ${text(payload.source)}`),
      severity: resolveSeverity(ctx, (value) => LEVELS.get(value.trim()) ?? severityFromWord(value), raw),
      raw_severity: raw,
      occurred_at: occurredAt(ctx.receivedAt, payload.date),
      category: text(payload.type) ?? null,
      host,
      user,
      indicators: indicators.result(),
      action: 'trigger',
      normalization: 'vendor',
    }),
  ];
}

export const thehiveNormalizer: VendorNormalizer = { format: 'thehive', matches, normalize };
