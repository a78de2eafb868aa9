/**
 * The normalized shape every inbound vendor payload is turned into. The raw payload is stored verbatim
 * beside it (AlertReceived), so this shape only carries what dedup, incidents and triage need.
 */
export const SEVERITIES = ['info', 'low', 'medium', 'high', 'critical'] as const;
export type Severity = (typeof SEVERITIES)[number];

/**
 * Formats a source can be configured with; 'auto' (see index.ts) detects one of them, trying them in this order
 * (most distinctive shape first, the loosest — generic — last). Formats whose payloads overlap refuse each
 * other's (shapes.ts): Grafana's webhook is a superset of Alertmanager's, so grafana comes first and alertmanager
 * refuses Grafana's fields; a TheHive-style alert is taken by thehive before generic, which refuses it. Every
 * vendor payload therefore fits exactly one format, and the order only matters for made-up hybrids.
 */
export const VENDOR_FORMATS = [
  'crowdstrike',
  'sentinel',
  'elastic',
  'chronicle',
  'grafana',
  'alertmanager',
  'pagerduty',
  'opsgenie',
  'splunk',
  'defender_o365',
  'thehive',
  'generic',
] as const;
export type VendorFormat = (typeof VENDOR_FORMATS)[number];

/**
 * 'unknown' is not a format a source can ask for: it is what an alert says when no vendor shape fitted
 * and the fallback normalizer produced it (normalization: 'fallback').
 */
export type AlertVendor = VendorFormat | 'unknown';

/** resolve/acknowledge act on the incident already opened for the same vendor_alert_id and open nothing. */
export type AlertAction = 'trigger' | 'resolve' | 'acknowledge';

export interface Indicators {
  emails: string[];
  urls: string[];
  domains: string[];
  ips: string[];
  hashes: string[];
}

export interface NormalizedAlert {
  vendor: AlertVendor;
  /** Stable id from the payload, or 'sha256:<hex>' of the canonical (RFC 8785) JSON of the item when it has none. */
  vendor_alert_id: string;
  title: string;
  severity: Severity;
  /** The vendor's own severity value as text ('4', 'high', '85'), null when the payload has none. */
  raw_severity: string | null;
  /** ISO 8601 UTC. */
  occurred_at: string;
  category: string | null;
  host?: string;
  user?: string;
  indicators: Indicators;
  action: AlertAction;
  normalization: 'vendor' | 'fallback';
}

export interface NormalizeContext {
  /** Used when the payload carries no usable time. */
  receivedAt: Date;
  /** Per-source override: vendor value (case-insensitive) → severity, applied before the vendor's own mapping. */
  severityMapping?: Readonly<Record<string, Severity>>;
  /** When the payload has no (recognisable) severity; 'medium' when unset. */
  defaultSeverity?: Severity;
  /**
   * A field of the vendor's result that tells repeats apart, for vendors whose dedup key includes one (Splunk:
   * instead of the result's host). Unset: the vendor's documented default.
   */
  dedupField?: string;
}

export type JsonRecord = Record<string, unknown>;

/** One per vendor module. `matches` is both auto-detection and the "does this payload fit" check. */
export interface VendorNormalizer {
  readonly format: VendorFormat;
  matches(payload: unknown): payload is JsonRecord;
  /** Only called with payloads `matches` accepted; returns at least one alert. */
  normalize(payload: JsonRecord, ctx: NormalizeContext): NormalizedAlert[];
}
