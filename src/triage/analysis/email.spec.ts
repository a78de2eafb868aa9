import { describe, expect, it } from 'vitest';
import type { JsonValue } from '../../event-store/event-store.port';
import { normalize } from '../../inbound/normalizers';
import type { TriageAlert } from '../playbooks/playbook';
import { extractEmail } from './email';

const NAMES = Object.getOwnPropertyNames(Object.prototype);
const keyed = (value: (name: string) => unknown) => Object.fromEntries(NAMES.map((name) => [name, value(name)]));

function triageAlert(raw: JsonValue): TriageAlert {
  const [alert] = normalize(raw, 'auto', { receivedAt: new Date('2024-06-01T12:00:00Z') });
  return { id: 'a1', receivedAt: '2024-06-01T12:00:00.000Z', alert, raw };
}

describe('extractEmail with Object.prototype names in the raw payload', () => {
  it('reads the documented fields and ignores the names, as keys and as values', () => {
    // JSON.parse: the raw item is stored JSON, so `__proto__` is an own key like any other.
    const raw = JSON.parse(
      JSON.stringify({
        ...keyed((name) => name),
        eventType: 'PhishingEmail',
        id: 'x1',
        creationTime: '2024-01-15T10:00:00Z',
        data: { ...keyed(() => keyed((n) => n)), sender: 'phisher@malicious.com', subject: 'Urgent', recipients: ['user@company.com'] },
        evidence: [{ '@odata.type': keyed(() => 'analyzedMessageEvidence'), sender: 'constructor' }, { '@odata.type': 'toString' }],
        email: keyed(() => 'valueOf'),
      }),
    ) as JsonValue;
    const facts = extractEmail([triageAlert(raw)], 'PhishingEmail: Urgent');
    expect(facts).toMatchObject({ sender: 'phisher@malicious.com', sender_domain: 'malicious.com', subject: 'Urgent', recipients: ['user@company.com'] });
    expect(JSON.parse(JSON.stringify(facts))).toStrictEqual(facts);
  });
});
