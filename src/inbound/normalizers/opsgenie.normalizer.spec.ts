import { readFileSync } from 'node:fs';
import { join } from 'node:path';
import { describe, expect, it } from 'vitest';
import { opsgenieNormalizer } from './opsgenie.normalizer';
import type { JsonRecord, NormalizeContext } from './types';

const ctx: NormalizeContext = { receivedAt: new Date('2024-06-01T12:00:00.000Z') };
const fixture = (name: string): JsonRecord & { alert: JsonRecord } =>
  JSON.parse(readFileSync(join(__dirname, '../../../test/fixtures/vendors', `${name}.json`), 'utf8'));
const normalize = (payload: JsonRecord) => opsgenieNormalizer.normalize(payload, ctx);

describe('Opsgenie normalizer', () => {
  it('maps a Create: message, priority, alias as the key, creation time, entity as host, details', () => {
    expect(normalize(fixture('opsgenie-create'))).toEqual([
      {
        vendor: 'opsgenie',
        vendor_alert_id: 'edr/FS-02/ransomware',
        title: 'Ransomware behaviour blocked on FS-02',
        severity: 'critical',
        raw_severity: 'P1',
        occurred_at: '2024-01-15T12:00:00.123Z',
        category: null,
        host: 'FS-02',
        user: 'svc-backup',
        indicators: { emails: [], urls: [], domains: [], ips: ['10.0.4.17'], hashes: ['44d88612fea8a8f36de82e1278abb02f', '3395856ce81f2b7382dee72602f798b642f14140'] },
        action: 'trigger',
        normalization: 'vendor',
      },
    ]);
  });

  it('acknowledges and resolves by alias, at the update time Opsgenie sends in nanoseconds', () => {
    expect(normalize(fixture('opsgenie-acknowledge'))[0]).toMatchObject({ action: 'acknowledge', vendor_alert_id: 'edr/FS-02/ransomware', occurred_at: '2024-01-15T12:05:00.000Z' });
    expect(normalize(fixture('opsgenie-close'))[0]).toMatchObject({ action: 'resolve', vendor_alert_id: 'edr/FS-02/ransomware', occurred_at: '2024-01-15T13:00:00.456Z' });
  });

  it('reads P1 to P5, keys by alertId without an alias, and attaches other actions as repeats', () => {
    const priorities = ['P1', 'P2', 'P3', 'P4', 'P5'].map((priority) => {
      const payload = fixture('opsgenie-create');
      payload.alert.priority = priority;
      return normalize(payload)[0]?.severity;
    });
    expect(priorities).toEqual(['critical', 'high', 'medium', 'low', 'info']);
    const note = fixture('opsgenie-create');
    note.action = 'AddNote';
    delete note.alert.alias;
    expect(normalize(note)[0]).toMatchObject({ action: 'trigger', vendor_alert_id: '052652ac-5d1c-464a-812a-7dd18bbfba8c' });
  });
});
