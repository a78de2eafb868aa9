import { join } from 'node:path';
import { describe, expect, it } from 'vitest';
import { toEventData } from '../../src/cqrs/domain-event';
import { SqliteEventStore } from '../../src/event-store/sqlite/sqlite.event-store';
import { AlertReceived, alertStream } from '../../src/inbound/events/alert.events';
import { normalize } from '../../src/inbound/normalizers';
import { waitForQueue } from '../fixtures/webhooks';
import { startTestApp } from '../support/test-app';

describe('the webhook queue', () => {
  it('processes, after a restart, work that was queued while nothing processed it', async () => {
    const first = await startTestApp();
    const { dataDir } = first;
    await first.request('POST', '/api/webhooks', { source: 'siem', secret: 'siem-secret-1', mode: 'async' });
    const organisationId = (await first.request('GET', '/api/webhooks/siem')).body.organisation_id;
    await first.app.close();

    // Queued work recorded just before the process stopped, i.e. not yet processed by the queue worker.
    const body = JSON.stringify({ event_type: 'security_alert', data: { alert_id: 'left-over-1', severity: 'critical' } });
    const receiptId = '0f5b2d1c-8a47-8d1b-9f3e-5a2b7c8d9e01';
    const receivedAt = new Date();
    const received = new AlertReceived(
      receiptId,
      organisationId,
      'siem',
      null,
      { autoTriage: false, playbook: null },
      'queued',
      receivedAt.toISOString(),
      'application/json',
      null,
      body,
      'utf8',
      'not-checked-here',
      'auto',
      normalize(JSON.parse(body), 'auto', { receivedAt }),
    );
    const store = new SqliteEventStore(join(dataDir, 'towline.db'));
    await store.append(alertStream(receiptId), [toEventData(received, { $correlationId: receiptId, $causationId: receiptId, actor: 'source:siem' })]);
    await store.close();

    const second = await startTestApp({ dataDir });
    try {
      const entry = await waitForQueue(second, receiptId);
      expect(entry).toMatchObject({ source: 'siem', status: 'processed', result: { status: 'accepted', incident_number: expect.stringMatching(/^INC-\d{4}-0001$/) } });
      const incident = await second.request('GET', `/api/incidents/${entry.result.incident_id}`);
      expect(incident.body).toMatchObject({ vendor_alert_id: 'left-over-1', severity: 'critical', alert_count: 1 });
    } finally {
      await second.close();
      await first.close().catch(() => undefined);
    }
  });
});
