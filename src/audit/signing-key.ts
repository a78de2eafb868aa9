import { createPrivateKey, createPublicKey, generateKeyPairSync, sign, type KeyObject } from 'node:crypto';
import { existsSync, mkdirSync, readFileSync, writeFileSync } from 'node:fs';
import { join } from 'node:path';
import { ConfigError } from '../config/config';
import { jcs } from '../event-store/hash-chain';
import type { JsonObject } from '../event-store/event-store.port';
import { keyIdOf, rawPublicKey } from './verification/signatures';

export const AUDIT_SIGNING_KEY_FILE = 'audit-signing.key';

/**
 * The Ed25519 key that signs ledger checkpoints. Kept outside the event store on purpose: whoever can rewrite
 * the database must not also hold the key. TW_AUDIT_SIGNING_KEY (PKCS#8 PEM) when set; otherwise a PEM file in
 * the data directory, created 0600 on first start (back it up, and publish its public key elsewhere).
 */
export class AuditSigningKey {
  readonly publicKey: KeyObject;
  /** Raw 32 bytes, base64. */
  readonly publicKeyBase64: string;
  /** First 16 hex characters of SHA-256 of the raw public key. */
  readonly keyId: string;

  constructor(private readonly privateKey: KeyObject) {
    this.publicKey = createPublicKey(privateKey);
    const raw = rawPublicKey(this.publicKey);
    this.publicKeyBase64 = raw.toString('base64');
    this.keyId = keyIdOf(raw);
  }

  static resolve(configured: string | undefined, dataDir: string): { key: AuditSigningKey; generated?: string } {
    if (configured) return { key: new AuditSigningKey(parsePrivateKey(configured, 'TW_AUDIT_SIGNING_KEY')) };
    if (dataDir === ':memory:') return { key: new AuditSigningKey(generateKeyPairSync('ed25519').privateKey) };
    const file = join(dataDir, AUDIT_SIGNING_KEY_FILE);
    if (existsSync(file)) return { key: new AuditSigningKey(parsePrivateKey(readFileSync(file, 'utf8'), file)) };
    mkdirSync(dataDir, { recursive: true });
    const { privateKey } = generateKeyPairSync('ed25519');
    // 'wx': never overwrite a key another process wrote meanwhile; the checkpoints it signed would stop verifying.
    writeFileSync(file, privateKey.export({ type: 'pkcs8', format: 'pem' }), { mode: 0o600, flag: 'wx' });
    return { key: new AuditSigningKey(privateKey), generated: file };
  }

  /** base64 Ed25519 signature of JCS(body). */
  sign(body: JsonObject): string {
    return sign(null, Buffer.from(jcs(body), 'utf8'), this.privateKey).toString('base64');
  }

  get pem(): string {
    return this.publicKey.export({ type: 'spki', format: 'pem' }).toString();
  }
}

function parsePrivateKey(text: string, origin: string): KeyObject {
  let key: KeyObject;
  try {
    key = createPrivateKey(text.trim());
  } catch (error) {
    throw new ConfigError(`${origin}: not a PKCS#8 PEM private key (${(error as Error).message})`, { cause: error });
  }
  if (key.asymmetricKeyType !== 'ed25519') throw new ConfigError(`${origin}: an Ed25519 key is required, not ${key.asymmetricKeyType}`);
  return key;
}

