import { alertmanagerNormalizer } from './alertmanager.normalizer';
import { chronicleNormalizer } from './chronicle.normalizer';
import { crowdstrikeNormalizer } from './crowdstrike.normalizer';
import { defenderO365Normalizer } from './defender-o365.normalizer';
import { elasticNormalizer } from './elastic.normalizer';
import { normalizeFallback } from './fallback.normalizer';
import { genericNormalizer } from './generic.normalizer';
import { grafanaNormalizer } from './grafana.normalizer';
import { opsgenieNormalizer } from './opsgenie.normalizer';
import { pagerdutyNormalizer } from './pagerduty.normalizer';
import { sentinelNormalizer } from './sentinel.normalizer';
import { splunkNormalizer } from './splunk.normalizer';
import { thehiveNormalizer } from './thehive.normalizer';
import { VENDOR_FORMATS, type NormalizeContext, type NormalizedAlert, type VendorFormat, type VendorNormalizer } from './types';

export * from './types';
export { extractIndicators } from './indicators';

const NORMALIZERS: Readonly<Record<VendorFormat, VendorNormalizer>> = {
  crowdstrike: crowdstrikeNormalizer,
  sentinel: sentinelNormalizer,
  elastic: elasticNormalizer,
  chronicle: chronicleNormalizer,
  grafana: grafanaNormalizer,
  alertmanager: alertmanagerNormalizer,
  pagerduty: pagerdutyNormalizer,
  opsgenie: opsgenieNormalizer,
  splunk: splunkNormalizer,
  defender_o365: defenderO365Normalizer,
  thehive: thehiveNormalizer,
  generic: genericNormalizer,
};

/** Every format whose shape the payload has; exactly one for any vendor's payload (index.spec.ts). */
export function matchingFormats(payload: unknown): VendorFormat[] {
  return VENDOR_FORMATS.filter((format) => NORMALIZERS[format].matches(payload));
}

export function isVendorFormat(value: unknown): value is VendorFormat {
  return typeof value === 'string' && (VENDOR_FORMATS as readonly string[]).includes(value);
}

/** The first format, in VENDOR_FORMATS order, whose distinctive shape the payload has; null when none. */
export function detectFormat(payload: unknown): VendorFormat | null {
  return VENDOR_FORMATS.find((format) => NORMALIZERS[format].matches(payload)) ?? null;
}

/**
 * Parsed JSON → normalized alerts; pure, never throws, always at least one alert. A payload that does not fit
 * the requested (or any detected) format is not refused: it becomes one 'fallback' alert. A top-level array is
 * taken as a batch: each element is normalized on its own (nested arrays are not unpacked further).
 */
export function normalize(payload: unknown, format: 'auto' | VendorFormat, ctx: NormalizeContext): NormalizedAlert[] {
  if (Array.isArray(payload) && payload.length > 0) {
    return payload.flatMap((item) => (Array.isArray(item) ? [normalizeFallback(item, ctx)] : normalize(item, format, ctx)));
  }
  const chosen = format === 'auto' ? detectFormat(payload) : isVendorFormat(format) ? format : null;
  const normalizer = chosen === null ? undefined : NORMALIZERS[chosen];
  return normalizer?.matches(payload) ? normalizer.normalize(payload, ctx) : [normalizeFallback(payload, ctx)];
}
