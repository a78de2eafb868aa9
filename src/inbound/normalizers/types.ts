/**
 * What the vendor normalizers share. The normalized alert itself, the severity scale and the vendor formats are
 * contracts every capability reads, so they live in src/contracts/alert.ts; they are re-exported here only for
 * the normalizers' own convenience.
 */
import type { NormalizedAlert, Severity, VendorFormat } from '../../contracts/alert';

export * from '../../contracts/alert';

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
