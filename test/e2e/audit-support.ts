import { expect } from 'vitest';
import { postWebhook } from '../fixtures/webhooks';
import type { TestApp } from '../support/test-app';

export const AUDIT_SECRET = 'audit-secret-0001';

/** Two organisations, each with a source, an audit key, a key without audit:read, and a few alerts. */
export async function twoOrganisations(t: TestApp) {
  const make = async (name: string) => {
    const org = await t.request('POST', '/api/organisations', { name });
    expect(org.status).toBe(201);
    const admin = await t.request('POST', `/api/organisations/${org.body.id}/api-keys`, { name: 'admin', scopes: ['admin'] });
    const auditor = await t.request('POST', `/api/organisations/${org.body.id}/api-keys`, { name: 'auditor', scopes: ['audit:read'] });
    const reader = await t.request('POST', `/api/organisations/${org.body.id}/api-keys`, { name: 'reader', scopes: ['read'] });
    const source = `${name.toLowerCase()}-siem`;
    const created = await t.request('POST', '/api/webhooks', { source, secret: AUDIT_SECRET }, admin.body.key);
    expect(created.status).toBe(201);
    const incidents: string[] = [];
    for (let i = 0; i < 3; i++) {
      const answer = await postWebhook(t.url, source, AUDIT_SECRET, { event_type: 'security_alert', data: { alert_id: `${name}-${i}`, severity: 'high' } });
      expect(answer.status).toBe(202);
      incidents.push(answer.body.incident_id);
    }
    return { id: org.body.id as string, admin: admin.body.key as string, auditor: auditor.body.key as string, reader: reader.body.key as string, source, incidents };
  };
  return { a: await make('Alpha'), b: await make('Bravo') };
}

export async function ndjson(t: TestApp, path: string, key: string): Promise<{ status: number; records: any[]; contentType: string | null }> {
  const response = await fetch(t.url + path, { headers: { authorization: `Bearer ${key}`, accept: 'application/x-ndjson' } });
  const text = await response.text();
  const records = response.status === 200 ? text.split('\n').filter(Boolean).map((line) => JSON.parse(line)) : [];
  return { status: response.status, records, contentType: response.headers.get('content-type') };
}

export async function waitForJob(t: TestApp, path: string, key?: string): Promise<any> {
  for (let i = 0; i < 600; i++) {
    const job = await t.request('GET', path, undefined, key);
    expect(job.status).toBe(200);
    if (job.body.state !== 'running') return job.body;
    await new Promise((resolve) => setTimeout(resolve, 50));
  }
  throw new Error(`${path} did not finish`);
}
