import { generateKeyPairSync, verify } from 'node:crypto';
import { mkdtempSync, readFileSync, rmSync, statSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { afterAll, describe, expect, it } from 'vitest';
import { ConfigError } from '../config/config';
import { jcs } from '../event-store/hash-chain';
import { AUDIT_SIGNING_KEY_FILE, AuditSigningKey } from './signing-key';
import { publicKeyFrom, verifySignature } from './verification/signatures';

describe('the ledger signing key', () => {
  const dir = mkdtempSync(join(tmpdir(), 'towline-audit-key-'));
  afterAll(() => rmSync(dir, { recursive: true, force: true }));

  it('is generated once into the data directory, 0600, and read back on the next start', () => {
    const first = AuditSigningKey.resolve(undefined, dir);
    expect(first.generated).toBe(join(dir, AUDIT_SIGNING_KEY_FILE));
    expect(statSync(first.generated!).mode & 0o777).toBe(0o600);
    expect(readFileSync(first.generated!, 'utf8')).toMatch(/^-----BEGIN PRIVATE KEY-----/);
    const again = AuditSigningKey.resolve(undefined, dir);
    expect(again.generated).toBeUndefined();
    expect(again.key.keyId).toBe(first.key.keyId);
  });

  it('signs JCS of a body so that node:crypto, given only the raw public key, verifies it', () => {
    const { key } = AuditSigningKey.resolve(undefined, ':memory:');
    const body = { b: 1, a: ['x', 2.5], '😀': null };
    const signature = key.sign(body);
    const publicKey = publicKeyFrom(key.publicKeyBase64);
    expect(verify(null, Buffer.from(jcs(body)), publicKey, Buffer.from(signature, 'base64'))).toBe(true);
    expect(verifySignature(body, signature, publicKeyFrom(key.pem))).toBe(true);
    expect(verifySignature({ ...body, b: 2 }, signature, publicKey)).toBe(false);
    expect(verifySignature(body, 'not base64!', publicKey)).toBe(false);
  });

  it('takes TW_AUDIT_SIGNING_KEY, and refuses what is not an Ed25519 PKCS#8 PEM key with a ConfigError', () => {
    const pem = generateKeyPairSync('ed25519').privateKey.export({ type: 'pkcs8', format: 'pem' }).toString();
    expect(AuditSigningKey.resolve(pem, dir).generated).toBeUndefined();
    const rsa = generateKeyPairSync('rsa', { modulusLength: 1024 }).privateKey.export({ type: 'pkcs8', format: 'pem' }).toString();
    expect(() => AuditSigningKey.resolve(rsa, dir)).toThrow(ConfigError);
    expect(() => AuditSigningKey.resolve('nonsense', dir)).toThrow(/TW_AUDIT_SIGNING_KEY: not a PKCS#8 PEM private key/);
  });
});
