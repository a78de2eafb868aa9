import { createHash, randomBytes } from 'node:crypto';

/** `tw_` + 32 random bytes, base64url: 256 bits, safe in headers, shells and URLs. */
export function generateApiKey(): string {
  return `tw_${randomBytes(32).toString('base64url')}`;
}

/**
 * Keys are high-entropy random strings, so a plain SHA-256 is enough to store them (no password hashing):
 * it cannot be brute-forced, and it allows a direct indexed lookup per request.
 */
export function hashApiKey(key: string): string {
  return createHash('sha256').update(key, 'utf8').digest('hex');
}
