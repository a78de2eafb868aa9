import { CRITICALITIES, parsePlaybookSettings, type Criticality, type IndicatorLists, type PlaybookSettings, type RoutingRule } from './playbook-settings';
import { registrableDomain } from './analysis/lookalike';

/**
 * An organisation's own triage settings, as TriageSettingsChanged records them on its stream: everything a
 * playbook judges by except retry and testing, which stay instance-wide (the `playbooks:` section of
 * TW_CONFIG). An organisation without any such event triages with the file's section (or the defaults): the
 * file seeds it, and its first edit through the API starts from there and is its own from then on — a
 * changed file never overwrites it.
 */
export interface TriageSettingsDocument {
  /** Domains protected by hand, beside the learned ones and the brand list. */
  protectedDomains: string[];
  /** Taken out of the learned domains and the brand list (a partner's domain, a brand of no concern). */
  unprotectedDomains: string[];
  /** Protect the organisation's own domains, learned from the recipients of the emails its alerts report. */
  learnOwnDomains: boolean;
  /** Protect the commonly impersonated brands of BRAND_LIST. */
  brandDomains: boolean;
  allow: IndicatorLists;
  block: IndicatorLists;
  /** Critical hosts: name patterns (`*`, `?`) → criticality, first match wins. */
  assetCriticality: { pattern: string; criticality: Criticality }[];
  routing: RoutingRule[];
  thresholds: PlaybookSettings['thresholds'];
}

/**
 * Brands phishing imitates most, so that `phishing_triage` catches `paypa1.com` before anyone configured
 * anything: brands that appear in the top-10 lists of Check Point Research's quarterly Brand Phishing Reports from
 * Q4 2019 to Q2 2022, with its main domains (Microsoft's with Outlook and Office).
 */
export const BRAND_LIST = {
  source: "Check Point Research, Brand Phishing Report (quarterly top-10 brands, Q4 2019 – Q2 2022)",
  domains: [
    'microsoft.com', 'office.com', 'outlook.com', 'google.com', 'apple.com', 'amazon.com', 'linkedin.com', 'facebook.com',
    'instagram.com', 'whatsapp.com', 'netflix.com', 'paypal.com', 'dhl.com', 'roblox.com', 'adobe.com', 'yahoo.com', 'chase.com',
    'rakuten.com', 'ikea.com', 'hsbc.com', 'dropbox.com', 'spotify.com',
  ],
} as const;

export const ENTRY_LISTS = [
  'protected_domains',
  'unprotected_domains',
  ...(['allow', 'block'] as const).flatMap((side) => (['domains', 'urls', 'ips', 'hashes', 'emails'] as const).map((kind) => `${side}.${kind}` as const)),
  'asset_criticality',
] as const;
export type EntryList = (typeof ENTRY_LISTS)[number];

export const isEntryList = (value: unknown): value is EntryList => typeof value === 'string' && (ENTRY_LISTS as readonly string[]).includes(value);

/** The JSON the API reads and writes (snake_case, like the configuration file). */
export interface TriageSettingsBody {
  protected_domains: string[];
  unprotected_domains: string[];
  learn_own_domains: boolean;
  brand_domains: boolean;
  allow: Record<keyof IndicatorLists, string[]>;
  block: Record<keyof IndicatorLists, string[]>;
  asset_criticality: { pattern: string; criticality: Criticality }[];
  routing: RoutingRule[];
  thresholds: {
    malicious_score: number;
    suspicious_score: number;
    lookalike_distance: number;
    campaign_window_minutes: number;
    campaign_size: number;
    repeat_window_minutes: number;
    repeat_detections: number;
    duplicate_window_minutes: number;
  };
}

/** The organisation's settings as long as it has none of its own: the file's (or the built-in) ones. */
export function seededDocument(instance: PlaybookSettings): TriageSettingsDocument {
  return {
    protectedDomains: [...instance.protectedDomains],
    unprotectedDomains: [],
    learnOwnDomains: true,
    brandDomains: true,
    allow: copyLists(instance.allow),
    block: copyLists(instance.block),
    assetCriticality: instance.assetCriticality.map((c) => ({ ...c })),
    routing: instance.routing.map((r) => ({ ...r })),
    thresholds: { ...instance.thresholds },
  };
}

const copyLists = (lists: IndicatorLists): IndicatorLists => ({
  domains: [...lists.domains],
  urls: [...lists.urls],
  ips: [...lists.ips],
  hashes: [...lists.hashes],
  emails: [...lists.emails],
});

export function toBody(document: TriageSettingsDocument): TriageSettingsBody {
  const t = document.thresholds;
  return {
    protected_domains: [...document.protectedDomains],
    unprotected_domains: [...document.unprotectedDomains],
    learn_own_domains: document.learnOwnDomains,
    brand_domains: document.brandDomains,
    allow: copyLists(document.allow),
    block: copyLists(document.block),
    asset_criticality: document.assetCriticality.map((c) => ({ ...c })),
    routing: document.routing.map((r) => ({ ...r })),
    thresholds: {
      malicious_score: t.maliciousScore,
      suspicious_score: t.suspiciousScore,
      lookalike_distance: t.lookalikeDistance,
      campaign_window_minutes: t.campaignWindowMinutes,
      campaign_size: t.campaignSize,
      repeat_window_minutes: t.repeatWindowMinutes,
      repeat_detections: t.repeatDetections,
      duplicate_window_minutes: t.duplicateWindowMinutes,
    },
  };
}

const DOMAIN = /^(?=.{1,253}$)[\p{L}\p{N}-]+(\.[\p{L}\p{N}-]+)+\.?$/iu;
const OWN_KEYS = ['unprotected_domains', 'learn_own_domains', 'brand_domains'];
const INSTANCE_KEYS = ['retry', 'testing'];
/**
 * The keys a body may have, at the top and inside the objects. Checked by own name before anything else reads
 * the body: a key such as `toString` or `__proto__` is an unknown key, never a lookup of an inherited member.
 */
const KNOWN_KEYS = new Map<string, ReadonlySet<string> | null>([
  ['protected_domains', null],
  ['unprotected_domains', null],
  ['learn_own_domains', null],
  ['brand_domains', null],
  ['allow', new Set(['domains', 'urls', 'ips', 'hashes', 'emails'])],
  ['block', new Set(['domains', 'urls', 'ips', 'hashes', 'emails'])],
  ['asset_criticality', null],
  ['routing', null],
  [
    'thresholds',
    new Set(['malicious_score', 'suspicious_score', 'lookalike_distance', 'campaign_window_minutes', 'campaign_size', 'repeat_window_minutes', 'repeat_detections', 'duplicate_window_minutes']),
  ],
]);

function unknownKeys(body: object): string[] {
  return Object.entries(body).flatMap(([key, value]) => {
    if (INSTANCE_KEYS.includes(key)) return [];
    if (!KNOWN_KEYS.has(key)) return [`${key}: unknown key`];
    const inner = KNOWN_KEYS.get(key);
    if (!inner || typeof value !== 'object' || value === null || Array.isArray(value)) return [];
    return Object.keys(value).filter((k) => !inner.has(k)).map((k) => `${key}.${k}: unknown key`);
  });
}

/**
 * A body (PUT, or the result of adding or removing an entry) → the document, validated like the
 * configuration file's section (same messages, same limits), plus the organisation-only keys. Keys left out
 * take their defaults: a PUT replaces the whole settings. Throws an Error listing every problem.
 */
export function parseBody(body: unknown, knownPlaybooks: readonly string[]): TriageSettingsDocument {
  if (typeof body !== 'object' || body === null || Array.isArray(body)) throw new Error('settings must be a JSON object');
  const problems: string[] = unknownKeys(body);
  if (problems.length > 0) throw new Error(problems.join('; '));
  const rest = new Map(Object.entries(body));
  for (const key of INSTANCE_KEYS) if (rest.has(key)) problems.push(`${key}: set for the whole instance in the configuration file, not per organisation`);
  const flag = (key: string): boolean => {
    const value = rest.get(key);
    if (value === undefined) return true;
    if (typeof value !== 'boolean') problems.push(`${key}: must be true or false`);
    return value !== false;
  };
  const learnOwnDomains = flag('learn_own_domains');
  const brandDomains = flag('brand_domains');
  const unprotected = rest.get('unprotected_domains') ?? [];
  if (!Array.isArray(unprotected) || unprotected.length > 10_000 || !unprotected.every((d) => typeof d === 'string' && DOMAIN.test(d))) {
    problems.push('unprotected_domains: must be domain names (e.g. partner.example)');
  }
  for (const key of [...OWN_KEYS, ...INSTANCE_KEYS]) rest.delete(key);
  let parsed: PlaybookSettings | undefined;
  try {
    parsed = parsePlaybookSettings(Object.fromEntries(rest), knownPlaybooks);
  } catch (error) {
    problems.push((error as Error).message);
  }
  if (problems.length > 0 || !parsed) throw new Error(problems.join('; '));
  return {
    ...seededDocument(parsed),
    unprotectedDomains: [...new Set((unprotected as string[]).map((d) => d.trim().toLowerCase().replace(/\.$/, '')))],
    learnOwnDomains,
    brandDomains,
  };
}

/** The body with one entry added (once) or removed; the caller parses it again, so an added entry is validated like any other. */
export function withEntry(
  document: TriageSettingsDocument,
  op: 'add' | 'remove',
  list: EntryList,
  value: string,
  criticality?: Criticality,
): TriageSettingsBody {
  const body = toBody(document);
  const normalized = value.trim().toLowerCase().replace(/\.$/, '');
  if (list === 'asset_criticality') {
    const kept = body.asset_criticality.filter((c) => c.pattern !== normalized);
    body.asset_criticality = op === 'add' ? [...kept, { pattern: normalized, criticality: criticality ?? 'critical' }] : kept;
    return body;
  }
  const [side, kind] = list.split('.') as ['allow' | 'block', keyof IndicatorLists] | ['protected_domains' | 'unprotected_domains', undefined];
  const current = kind === undefined ? body[side as 'protected_domains' | 'unprotected_domains'] : body[side as 'allow' | 'block'][kind];
  const next = op === 'add' ? (current.includes(normalized) ? current : [...current, normalized]) : current.filter((v) => v !== normalized);
  if (kind === undefined) body[side as 'protected_domains' | 'unprotected_domains'] = next;
  else body[side as 'allow' | 'block'][kind] = next;
  return body;
}

export { CRITICALITIES, type Criticality };

/** How many learned domains are protected at most: the most often seen ones, so triage work stays bounded. */
export const MAX_LEARNED_DOMAINS = 50;

export interface ProtectedDomain {
  domain: string;
  /** Where it comes from: set by hand, learned from the organisation's recipients, or the brand list. */
  origin: 'configured' | 'learned' | 'brand';
}

/** The protected domains in force, each once (the first origin wins), without the unprotected ones. */
export function protectedDomains(document: TriageSettingsDocument, learned: readonly string[]): ProtectedDomain[] {
  const excluded = new Set(document.unprotectedDomains.map((d) => registrableDomain(d)));
  const found = new Map<string, ProtectedDomain>();
  const add = (domains: readonly string[], origin: ProtectedDomain['origin']) => {
    for (const domain of domains) if (!found.has(domain) && !excluded.has(registrableDomain(domain))) found.set(domain, { domain, origin });
  };
  add(document.protectedDomains, 'configured');
  if (document.learnOwnDomains) add(learned.slice(0, MAX_LEARNED_DOMAINS), 'learned');
  if (document.brandDomains) add(BRAND_LIST.domains, 'brand');
  return [...found.values()];
}

/** What the playbooks run with for one organisation: its document, its protected domains, the instance's retry and testing. */
export function effectiveSettings(instance: PlaybookSettings, document: TriageSettingsDocument, learned: readonly string[]): PlaybookSettings {
  return {
    protectedDomains: protectedDomains(document, learned).map((p) => p.domain),
    allow: document.allow,
    block: document.block,
    assetCriticality: document.assetCriticality,
    thresholds: document.thresholds,
    routing: document.routing,
    retry: instance.retry,
    stepDelaysMs: instance.stepDelaysMs,
  };
}
