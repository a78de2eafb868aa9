import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { eventually } from '../fixtures/triage';
import { postWebhook } from '../fixtures/webhooks';
import { startTestApp, type TestApp } from '../support/test-app';

/** The incident lifecycle drives the seed's finding.* security events and the project's posture grade. */
describe('security events from the incident lifecycle', () => {
  let t: TestApp;
  const SECRET = 'lifecycle-secret-1';
  let projectId: string;

  const events = async (type: string) =>
    (await t.request('GET', `/api/organisations/default/events?type=${type}&project_id=${projectId}`)).body.items as any[];

  beforeAll(async () => {
    t = await startTestApp();
    projectId = (await t.request('POST', '/api/organisations/default/projects', { name: 'lifecycle' })).body.id;
    await t.request('POST', '/api/webhooks', { source: 'scanner', secret: SECRET, project_id: projectId });
  });
  afterAll(async () => {
    await t?.close();
  });

  it('emits finding.created, assigned, acknowledged, resolution_failed and resolution_verified, with the actor', async () => {
    const alert = { event_type: 'security_alert', data: { alert_id: 'life-1', severity: 'critical', title: 'SQL injection in /login' } };
    const answer = await postWebhook(t.url, 'scanner', SECRET, alert);
    expect(answer.status).toBe(202);
    const id = answer.body.incident_id as string;

    const created = await eventually(async () => (await events('finding.created'))[0]);
    expect(created).toMatchObject({ severity: 'critical', project_id: projectId, data: { finding_id: id, incident_number: answer.body.incident_number } });
    const degraded = await eventually(async () => (await events('posture.grade_changed'))[0]);
    expect(degraded).toMatchObject({ severity: 'high', data: { from: 'A', to: 'D', degraded: true } });

    expect((await t.request('POST', `/api/incidents/${id}/assign`, { assignee: 'alice@example.com' })).status).toBe(200);
    expect((await t.request('POST', `/api/incidents/${id}/acknowledge`)).status).toBe(200);
    expect((await t.request('POST', `/api/incidents/${id}/resolve`, { resolution: 'remediated', note: 'patched' })).status).toBe(200);
    expect((await t.request('POST', `/api/incidents/${id}/verify`, { passed: false, note: 'still injectable' })).status).toBe(200);
    expect((await t.request('POST', `/api/incidents/${id}/resolve`, { resolution: 'remediated', note: 'patched again' })).status).toBe(200);
    expect((await t.request('POST', `/api/incidents/${id}/verify`, { passed: true })).status).toBe(200);

    const assigned = await eventually(async () => (await events('finding.assigned'))[0]);
    expect(assigned.data).toMatchObject({ finding_id: id, assignee: 'alice@example.com', assigned_by: 'admin' });
    const acknowledged = await eventually(async () => (await events('finding.acknowledged'))[0]);
    expect(acknowledged.data).toMatchObject({ finding_id: id, acknowledged_by: 'admin' });
    const failed = await eventually(async () => (await events('finding.resolution_failed'))[0]);
    expect(failed).toMatchObject({ severity: 'high', data: { finding_id: id, reason: 'still injectable' } });
    const verified = await eventually(async () => (await events('finding.resolution_verified'))[0]);
    expect(verified.data).toMatchObject({ finding_id: id });

    // Resolved for good: the project's grade recovers.
    const recovered = await eventually(async () => (await events('posture.grade_changed')).find((e) => e.data.to === 'A'));
    expect(recovered).toMatchObject({ data: { from: 'D', degraded: false } });
  });
});
