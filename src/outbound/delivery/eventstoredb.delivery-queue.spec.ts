import { describe, expect, it } from 'vitest';
import { jobFromEvent } from './eventstoredb.delivery-queue';

describe('EventStoreDB delivery queue: jobs from events', () => {
  it('reads a job from each event that makes an attempt due', () => {
    const data = { deliveryId: 'd', webhookId: 'w', attempt: 2, dueAt: '2026-01-01T00:00:00.000Z', other: 1 };
    for (const type of ['DeliveryScheduled', 'DeliveryRetryScheduled', 'DeliveryRedeliveryRequested']) {
      expect(jobFromEvent(type, data)).toEqual({ deliveryId: 'd', webhookId: 'w', attempt: 2, dueAt: Date.parse(data.dueAt) });
    }
  });

  it('ignores anything else', () => {
    expect(jobFromEvent('DeliverySucceeded', { deliveryId: 'd', webhookId: 'w', attempt: 1, dueAt: '2026-01-01T00:00:00Z' })).toBeNull();
    expect(jobFromEvent('DeliveryScheduled', { deliveryId: 'd' })).toBeNull();
    expect(jobFromEvent('DeliveryScheduled', { deliveryId: 'd', webhookId: 'w', attempt: 1, dueAt: 'soon' })).toBeNull();
    expect(jobFromEvent('DeliveryScheduled', null)).toBeNull();
  });
});
