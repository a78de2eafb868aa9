import { randomBytes } from 'node:crypto';
import { mkdtempSync, statSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { describe, expect, it } from 'vitest';
import { SecretBox, resolveMasterKey } from './secret-box';

describe('SecretBox', () => {
  const box = new SecretBox(randomBytes(32));

  it('round-trips a secret without leaving it readable', () => {
    const sealed = box.seal('your-secret-key', 'source-x');
    expect(sealed).not.toContain('your-secret-key');
    expect(box.open(sealed, 'source-x')).toBe('your-secret-key');
  });

  it('uses a fresh nonce each time', () => {
    expect(box.seal('s')).not.toBe(box.seal('s'));
  });

  it('refuses a tampered ciphertext, another context, and another key with a clear message', () => {
    const sealed = box.seal('secret', 'a');
    const parts = sealed.split('.');
    parts[3] = Buffer.from('x').toString('base64url');
    expect(() => box.open(parts.join('.'), 'a')).toThrow();
    expect(() => box.open(sealed, 'b')).toThrow();
    expect(() => new SecretBox(randomBytes(32)).open(sealed, 'a')).toThrow(/TW_MASTER_KEY/);
  });
});

describe('resolveMasterKey', () => {
  it('generates a 0600 key file on first start and reuses it afterwards', () => {
    const dir = mkdtempSync(join(tmpdir(), 'towline-key-'));
    const first = resolveMasterKey(undefined, dir);
    expect(first.generated).toBe(true);
    expect(statSync(first.file!).mode & 0o777).toBe(0o600);
    const second = resolveMasterKey(undefined, dir);
    expect(second).toMatchObject({ generated: false });
    expect(second.key.equals(first.key)).toBe(true);
  });

  it('prefers the configured key', () => {
    const key = randomBytes(32);
    expect(resolveMasterKey(key, '/nonexistent').key).toBe(key);
  });
});
