import { readFileSync } from 'node:fs';
import { join } from 'node:path';
import { describe, expect, it } from 'vitest';
import { sentinelNormalizer } from './sentinel.normalizer';
import type { JsonRecord, NormalizeContext } from './types';

const ctx: NormalizeContext = { receivedAt: new Date('2024-06-01T12:00:00.000Z') };
const fixture = (name: string): JsonRecord => JSON.parse(readFileSync(join(__dirname, '../../../test/fixtures/vendors', `${name}.json`), 'utf8'));
const normalize = (payload: JsonRecord) => sentinelNormalizer.normalize(payload, ctx);
const withProperties = (changes: JsonRecord, eventType = 'Create'): JsonRecord => {
  const payload = fixture('sentinel-incident') as { objectEventType: string; object: { properties: JsonRecord } };
  payload.objectEventType = eventType;
  Object.assign(payload.object.properties, changes);
  return payload as unknown as JsonRecord;
};

describe('Microsoft Sentinel normalizer', () => {
  it('maps the incident trigger body: title, severity, incident GUID, first activity, and the related entities', () => {
    expect(normalize(fixture('sentinel-incident'))).toEqual([
      {
        vendor: 'sentinel',
        vendor_alert_id: '7e1a4c2d-5b6f-4a3e-9c8d-1f2e3a4b5c6d',
        title: 'Suspicious sign-in followed by mailbox rule creation',
        severity: 'high',
        raw_severity: 'High',
        occurred_at: '2024-01-15T09:58:12.123Z',
        category: 'InitialAccess',
        host: 'FIN-LT-0231.corp.contoso.com',
        user: 'jdoe@contoso.com',
        indicators: {
          emails: [],
          urls: ['https://collect.evil.example/drop'],
          domains: ['collect.evil.example'],
          ips: ['198.51.100.23'],
          hashes: ['e3b0c44298fc1c149afbf4c8996fb92427ae41e4649b934ca495991b7852b855'],
        },
        action: 'trigger',
        normalization: 'vendor',
      },
    ]);
  });

  it('resolves on Closed, acknowledges on an Update to Active, and keeps the same key for both', () => {
    expect(normalize(fixture('sentinel-incident-closed'))[0]).toMatchObject({ action: 'resolve', vendor_alert_id: '7e1a4c2d-5b6f-4a3e-9c8d-1f2e3a4b5c6d' });
    expect(normalize(withProperties({ status: 'Active' }, 'Update'))[0]?.action).toBe('acknowledge');
    // Created already Active (an analyst made it by hand) is still a new incident.
    expect(normalize(withProperties({ status: 'Active' }, 'Create'))[0]?.action).toBe('trigger');
  });

  it("reads Sentinel's four severities and falls back to the source default for others", () => {
    const severities = ['Informational', 'Low', 'Medium', 'High', 'Unknown'].map((severity) => normalize(withProperties({ severity }))[0]?.severity);
    expect(severities).toEqual(['info', 'low', 'medium', 'high', 'medium']);
  });

  it('takes accounts without a UPN suffix as DOMAIN\\name, hosts by NetBIOS name, and mail entities as emails', () => {
    const [alert] = normalize(
      withProperties({
        relatedEntities: [
          { kind: 'Account', properties: { accountName: 'svc-sql', ntDomain: 'CORP' } },
          { kind: 'Host', properties: { netBiosName: 'SQL01' } },
          { kind: 'MailMessage', properties: { sender: 'Billing <billing@paypa1.com>', senderIP: '192.0.2.44' } },
          { kind: 'DnsResolution', properties: { domainName: 'paypa1.com' } },
        ],
      }),
    );
    expect(alert).toMatchObject({ user: 'CORP\\svc-sql', host: 'SQL01' });
    expect(alert?.indicators).toMatchObject({ emails: ['billing@paypa1.com'], ips: ['192.0.2.44', '198.51.100.23'], domains: ['paypa1.com', 'collect.evil.example'] });
  });

  it('accepts a forwarded incident object alone, and nothing that is not an incident', () => {
    const { object } = fixture('sentinel-incident') as { object: JsonRecord };
    expect(sentinelNormalizer.matches(object)).toBe(true);
    expect(normalize(object)[0]?.vendor_alert_id).toBe('7e1a4c2d-5b6f-4a3e-9c8d-1f2e3a4b5c6d');
    expect(sentinelNormalizer.matches({ objectSchemaType: 'Alert', object: { properties: {} } })).toBe(false);
    expect(sentinelNormalizer.matches({ object: { type: 'Microsoft.SecurityInsights/Entities', properties: {} } })).toBe(false);
  });
});
