/**
 * The normalized alert: the shape every inbound vendor payload is turned into, and what incidents and triage
 * read. It is a contract shared by the capabilities, so it lives below them (inbound produces it, the others
 * consume it through events). The raw payload is stored verbatim beside it (AlertReceived), so this shape only
 * carries what dedup, incidents and triage need.
 */

/** The one severity scale of Towline, lowest first: alerts, incidents, triage, outbound events and filters. */
export const SEVERITIES = ['info', 'low', 'medium', 'high', 'critical'] as const;
export type Severity = (typeof SEVERITIES)[number];

export function isSeverity(value: unknown): value is Severity {
  return typeof value === 'string' && (SEVERITIES as readonly string[]).includes(value);
}

/** Rank on the scale (info 0 … critical 4), for "at least this severe" comparisons. */
export const severityRank = (severity: Severity): number => SEVERITIES.indexOf(severity);

/**
 * Formats a source can be configured with; 'auto' (see inbound/normalizers/index.ts) detects one of them, trying
 * them in this order (most distinctive shape first, the loosest — generic — last). Formats whose payloads overlap
 * refuse each other's (inbound/normalizers/shapes.ts): Grafana's webhook is a superset of Alertmanager's, so
 * grafana comes first and alertmanager refuses Grafana's fields; a TheHive-style alert is taken by thehive before
 * generic, which refuses it. Every vendor payload therefore fits exactly one format, and the order only matters
 * for made-up hybrids.
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
