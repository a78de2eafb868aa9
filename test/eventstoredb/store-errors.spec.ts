import { describe, expect, it } from 'vitest';
import { EventTooLarge, StoreUnavailable } from '../../src/event-store/event-store.errors';
import { toErrorResponse } from '../../src/http/error-response';

describe('store errors over HTTP', () => {
  it('answers an append over the maximum append size 413 event_too_large, with the size and the limit', () => {
    expect(toErrorResponse(new EventTooLarge('alert-1', 'AlertReceived', 2_000_000, 1_048_576))).toEqual({
      status: 413,
      body: {
        error: {
          code: 'event_too_large',
          message: expect.stringContaining('TW_MAX_APPEND_SIZE'),
          details: { size: 2_000_000, max_append_size: 1_048_576 },
        },
      },
    });
  });

  it('answers a store unavailable after its retries 503 store_unavailable with Retry-After, revealing nothing else', () => {
    const response = toErrorResponse(new StoreUnavailable('The event store is unavailable (not leader); retry shortly', 3, new Error('secret detail')));
    expect(response).toEqual({
      status: 503,
      headers: { 'retry-after': '3' },
      body: { error: { code: 'store_unavailable', message: 'The event store is unavailable; retry shortly' } },
    });
  });
});
