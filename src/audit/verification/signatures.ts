import { createHash, createPublicKey, verify, type KeyObject } from 'node:crypto';
import type { JsonObject } from '../../event-store/event-store.port';
import { jcs } from '../../event-store/hash-chain';

/** Ed25519 as ledger checkpoints use it: pure functions, shared by the server and the offline verifier. */

/** The DER prefix of an Ed25519 SubjectPublicKeyInfo: what precedes the raw 32 key bytes. */
const SPKI_PREFIX = Buffer.from('302a300506032b6570032100', 'hex');

export function rawPublicKey(key: KeyObject): Buffer {
  return key.export({ type: 'spki', format: 'der' }).subarray(SPKI_PREFIX.length);
}

export function keyIdOf(raw: Buffer): string {
  return createHash('sha256').update(raw).digest('hex').slice(0, 16);
}

/** A public key from its raw 32 bytes (base64) or a PEM SubjectPublicKeyInfo. */
export function publicKeyFrom(text: string): KeyObject {
  const trimmed = text.trim();
  if (trimmed.startsWith('-----BEGIN')) return createPublicKey(trimmed);
  const raw = Buffer.from(trimmed, 'base64');
  if (raw.length !== 32) throw new Error('An Ed25519 public key is 32 bytes (base64) or a PEM block');
  return createPublicKey({ key: Buffer.concat([SPKI_PREFIX, raw]), format: 'der', type: 'spki' });
}

export function verifySignature(body: JsonObject, signature: string, key: KeyObject): boolean {
  try {
    return verify(null, Buffer.from(jcs(body), 'utf8'), key, Buffer.from(signature, 'base64'));
  } catch {
    return false;
  }
}
