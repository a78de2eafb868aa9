import { describe, expect, it } from 'vitest';
import { ConfigError, loadConfig } from '../config/config';
import { parseDuration } from './outbound-settings';

describe('outbound configuration', () => {
  it('defaults to https only, no allowlist, X-Towline-Signature, 15 s, and 3 retries at 1m, 10m, 100m with bounded jitter', () => {
    expect(loadConfig({ TW_DATA_DIR: ':memory:' }).outbound).toMatchObject({
      allowInsecureWebhooks: false,
      allowCidrs: [],
      signatureHeader: 'X-Towline-Signature',
      timeoutMs: 15_000,
      retryScheduleMs: [60_000, 600_000, 6_000_000],
      retryJitter: 'bounded',
      deadlineMs: 6 * 3_600_000,
      organisationConcurrency: 24,
      autoDisableMs: 5 * 86_400_000,
      secretGraceMs: 86_400_000,
      publicUrl: null,
    });
  });

  it('reads every variable', () => {
    const outbound = loadConfig({
      TW_DATA_DIR: ':memory:',
      TW_ALLOW_INSECURE_WEBHOOKS: 'true',
      TW_WEBHOOK_ALLOW_CIDRS: '127.0.0.0/8, ::1/128',
      TW_SIGNATURE_HEADER: 'X-Hub-Signature-256',
      TW_DELIVERY_TIMEOUT: '2500ms',
      TW_DELIVERY_RETRY_SCHEDULE: '200ms,400ms,800ms,1h',
      TW_DELIVERY_RETRY_JITTER: 'none',
      TW_PUBLIC_URL: 'https://towline.example.com/ui/events/{event_id}?org={organisation_id}',
      TW_DRIFT_THRESHOLD: '2.5',
    }).outbound;
    expect(outbound).toMatchObject({
      allowInsecureWebhooks: true,
      allowCidrs: ['127.0.0.0/8', '::1/128'],
      signatureHeader: 'X-Hub-Signature-256',
      timeoutMs: 2_500,
      retryScheduleMs: [200, 400, 800, 3_600_000],
      retryJitter: 'none',
      publicUrl: 'https://towline.example.com/ui/events/{event_id}?org={organisation_id}',
      drift: { threshold: 2.5 },
    });
  });

  it.each([
    ['TW_WEBHOOK_ALLOW_CIDRS', '127.0.0.0/33'],
    ['TW_DELIVERY_TIMEOUT', '15'],
    ['TW_DELIVERY_RETRY_SCHEDULE', '10s,soon'],
    ['TW_DELIVERY_RETRY_JITTER', 'some'],
    ['TW_SIGNATURE_HEADER', 'webhook-signature'],
    ['TW_SIGNATURE_HEADER', 'Bad Header'],
    ['TW_ALLOW_INSECURE_WEBHOOKS', 'yes'],
    ['TW_PUBLIC_URL', 'https://user:pw@towline.example.com'],
    ['TW_PUBLIC_URL', 'https://towline.example.com/{incident}'],
    ['TW_DELIVERY_RETRY_JITTER', 'full'],
    ['TW_DELIVERY_DEADLINE', '6'],
    ['TW_DELIVERY_ENDPOINT_CONCURRENCY', '0'],
  ])('refuses %s=%s, naming the variable', (name, value) => {
    expect(() => loadConfig({ TW_DATA_DIR: ':memory:', [name]: value })).toThrow(ConfigError);
    expect(() => loadConfig({ TW_DATA_DIR: ':memory:', [name]: value })).toThrow(new RegExp(name));
  });

  it('takes durations with a unit only', () => {
    expect(parseDuration('250ms')).toBe(250);
    expect(parseDuration('5m')).toBe(300_000);
    expect(parseDuration('7d')).toBe(604_800_000);
    expect(() => parseDuration('10')).toThrow();
  });

  it('an empty retry schedule means no retries', () => {
    expect(loadConfig({ TW_DATA_DIR: ':memory:', TW_DELIVERY_RETRY_SCHEDULE: ' ' }).outbound.retryScheduleMs).toEqual([]);
  });
});
