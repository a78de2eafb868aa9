import { createCipheriv, createDecipheriv, createHash, randomBytes } from 'node:crypto';
import { existsSync, mkdirSync, readFileSync, writeFileSync } from 'node:fs';
import { join } from 'node:path';

export const SECRET_BOX = Symbol('SECRET_BOX');

/**
 * AES-256-GCM for secrets that must stay usable (signing secrets), so that they never reach an event in
 * clear. Sealed form: `v1.<key id>.<iv>.<ciphertext>.<tag>` (base64url parts). The key id (a digest of the
 * master key) lets a wrong TW_MASTER_KEY fail with a clear message instead of a bare authentication error.
 */
export class SecretBox {
  readonly keyId: string;

  constructor(private readonly key: Buffer) {
    if (key.length !== 32) throw new Error('The master key must be 32 bytes');
    this.keyId = createHash('sha256').update(key).digest('base64url').slice(0, 8);
  }

  /** `context` binds the ciphertext to its use (e.g. a source's stream), so it cannot be moved elsewhere. */
  seal(plaintext: string, context = ''): string {
    const iv = randomBytes(12);
    const cipher = createCipheriv('aes-256-gcm', this.key, iv);
    cipher.setAAD(Buffer.from(context, 'utf8'));
    const ciphertext = Buffer.concat([cipher.update(plaintext, 'utf8'), cipher.final()]);
    return ['v1', this.keyId, iv.toString('base64url'), ciphertext.toString('base64url'), cipher.getAuthTag().toString('base64url')].join('.');
  }

  open(sealed: string, context = ''): string {
    const [version, keyId, iv, ciphertext, tag] = sealed.split('.');
    if (version !== 'v1' || !iv || ciphertext === undefined || !tag) throw new Error('Not a sealed secret');
    if (keyId !== this.keyId) {
      throw new Error(`Secret was sealed with master key ${keyId}, but TW_MASTER_KEY is ${this.keyId}`);
    }
    const decipher = createDecipheriv('aes-256-gcm', this.key, Buffer.from(iv, 'base64url'));
    decipher.setAAD(Buffer.from(context, 'utf8'));
    decipher.setAuthTag(Buffer.from(tag, 'base64url'));
    return Buffer.concat([decipher.update(Buffer.from(ciphertext, 'base64url')), decipher.final()]).toString('utf8');
  }
}

export const MASTER_KEY_FILE = 'master.key';

/**
 * The master key: TW_MASTER_KEY when set; otherwise (embedded mode only, enforced by the config) a key kept
 * in the data directory with mode 0600, generated on first start. `generated` tells the caller to log it.
 */
export function resolveMasterKey(configured: Buffer | undefined, dataDir: string): { key: Buffer; generated: boolean; file?: string } {
  if (configured) return { key: configured, generated: false };
  if (dataDir === ':memory:') return { key: randomBytes(32), generated: false };
  const file = join(dataDir, MASTER_KEY_FILE);
  if (existsSync(file)) {
    const key = Buffer.from(readFileSync(file, 'utf8').trim(), 'hex');
    if (key.length !== 32) throw new Error(`${file} does not hold a 32-byte hex key`);
    return { key, generated: false, file };
  }
  mkdirSync(dataDir, { recursive: true });
  const key = randomBytes(32);
  // 'wx': never overwrite a key another process wrote meanwhile; losing a key loses every secret under it.
  writeFileSync(file, key.toString('hex') + '\n', { mode: 0o600, flag: 'wx' });
  return { key, generated: true, file };
}
