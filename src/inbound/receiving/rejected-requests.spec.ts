import { describe, expect, it } from 'vitest';
import { REJECTED_PER_SOURCE, RejectedRequests } from './rejected-requests';

const refusal = { code: 'invalid_payload', message: 'Payload must be a JSON object' };
const request = (body: Buffer | string) => ({ body: Buffer.isBuffer(body) ? body : Buffer.from(body), contentType: 'application/json', requestId: 'r-1' });

describe('RejectedRequests', () => {
  it('keeps the newest refusals per source, at most REJECTED_PER_SOURCE, newest first', () => {
    const list = new RejectedRequests();
    for (let n = 0; n < REJECTED_PER_SOURCE + 10; n++) list.record('source-a', refusal, request(String(n)));
    list.record('source-b', refusal, request('other'));
    const kept = list.list('source-a');
    expect(kept).toHaveLength(REJECTED_PER_SOURCE);
    expect(kept[0].body_excerpt).toBe(String(REJECTED_PER_SOURCE + 9));
    expect(kept.at(-1)!.body_excerpt).toBe('10');
    expect(list.list('source-b').map((r) => r.body_excerpt)).toEqual(['other']);
    expect(list.list('source-c')).toEqual([]);
  });

  it('keeps the start of a long body as whole characters, and a body that is not UTF-8 as base64', () => {
    const list = new RejectedRequests();
    list.record('s', refusal, request('😀'.repeat(3_000)));
    list.record('s', refusal, request(Buffer.from([0xff, 0xfe, 0x00, 0x41])));
    const [binary, long] = list.list('s');
    expect(long).toMatchObject({ body_encoding: 'utf8', body_truncated: true, size: 12_000 });
    expect(long.body_excerpt.length).toBeLessThanOrEqual(2_048);
    expect(long.body_excerpt.endsWith('😀…')).toBe(true);
    expect(binary).toMatchObject({ body_encoding: 'base64', body_excerpt: Buffer.from([0xff, 0xfe, 0x00, 0x41]).toString('base64'), body_truncated: false });
  });
});
