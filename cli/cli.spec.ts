import { describe, expect, it } from 'vitest';
import { ApiClient, parseBaseUrl } from './api-client';
import { newRecords } from './commands/logs';
import { CliError, EXIT, exitCodeForStatus } from './exit-codes';
import { table } from './output';

describe('the base URL', () => {
  it('keeps its path, with or without the trailing slash', () => {
    for (const raw of ['http://proxy/towline', 'http://proxy/towline/']) {
      const client = new ApiClient(parseBaseUrl(raw, 'env'), 'tw_x');
      expect(client.url('/api/webhooks', { organisation_id: 'default', tail: undefined })).toBe('http://proxy/towline/api/webhooks?organisation_id=default');
      expect(client.url('/health')).toBe('http://proxy/towline/health');
    }
    expect(new ApiClient(parseBaseUrl('HTTPS://Towline.Example.com', 'flag'), undefined).url('/api/x')).toBe('https://towline.example.com/api/x');
  });

  it('is refused, naming its origin, without a scheme, with credentials, a query or a fragment', () => {
    const refusal = (raw: string, origin: 'flag' | 'env' | 'file') => {
      try {
        parseBaseUrl(raw, origin);
      } catch (error) {
        return error as CliError;
      }
      throw new Error(`${raw} was accepted`);
    };
    expect(refusal('localhost:8080', 'env')).toMatchObject({ exitCode: EXIT.usage, message: "TW_URL must start with http:// or https:// (got 'localhost:8080')" });
    expect(refusal('ftp://x', 'flag').message).toMatch(/^--url must start/);
    expect(refusal('http://a:b@x', 'file').message).toMatch(/^the url of the config file must not hold a user name/);
    expect(refusal('http://x/?a=1', 'env').message).toMatch(/must not have a query/);
    expect(refusal('http://x/#top', 'env').message).toMatch(/must not have a query or fragment/);
    expect(refusal('http://[::1', 'env').message).toMatch(/is not a valid URL/);
  });
});

describe('exit codes', () => {
  it('map each HTTP status class to its own code', () => {
    expect([400, 401, 403, 404, 409, 413, 415, 429, 500, 502, 503].map(exitCodeForStatus)).toEqual([2, 3, 3, 4, 5, 2, 2, 6, 6, 6, 6]);
  });
});

describe('logs --follow', () => {
  const r = (n: number) => ({ time: `t${n}`, msg: `m${n}` });
  it('prints only the records after the last one printed', () => {
    expect(newRecords(JSON.stringify(r(2)), [r(1), r(2), r(3), r(4)])).toEqual([r(3), r(4)]);
    expect(newRecords(JSON.stringify(r(4)), [r(1), r(2), r(3), r(4)])).toEqual([]);
  });
  it('prints everything when nothing was printed yet, or the last one scrolled out of the window', () => {
    expect(newRecords(undefined, [r(1)])).toEqual([r(1)]);
    expect(newRecords(JSON.stringify(r(0)), [r(5), r(6)])).toEqual([r(5), r(6)]);
  });
});

describe('tables', () => {
  it('align columns, show empty cells as -, and keep one line per row', () => {
    const rows = [
      { a: 'x', b: null, c: 'multi\nline' },
      { a: 'longer', b: true, c: '' },
    ];
    expect(table(rows, [
      { header: 'A', value: (r) => r.a },
      { header: 'B', value: (r) => r.b },
      { header: 'C', value: (r) => r.c },
    ])).toBe(['A       B    C', 'x       -    multi line', 'longer  yes  -'].join('\n'));
  });
});
