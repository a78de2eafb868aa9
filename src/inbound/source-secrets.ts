import { randomBytes } from 'node:crypto';
import type { SecretBox } from '../config/secret-box';
import type { SealedSourceSecret } from './events/source.events';

/** 32 random bytes, base64url: 256 bits, safe to paste into a shell, a YAML file or an environment variable. */
export function generateSourceSecret(): string {
  return randomBytes(32).toString('base64url');
}

/** Sealed to its source stream and its own id, so a sealed value copied onto another source does not open. */
const contextOf = (stream: string, secretId: string) => `${stream}/${secretId}`;

export function sealSourceSecret(box: SecretBox, stream: string, id: string, plaintext: string, createdAt: string): SealedSourceSecret {
  return { id, sealed: box.seal(plaintext, contextOf(stream, id)), createdAt };
}

/**
 * Opened secrets, per box: every signed request needs its source's secrets in the clear, and opening
 * (AES-256-GCM) on each one was a measurable part of the inbound path. Keyed by the sealed value itself, so a
 * rotated secret is a new entry; bounded, because sealed values of removed sources are never asked for again.
 */
const opened = new WeakMap<SecretBox, Map<string, string>>();
const OPENED_MAX = 10_000;

export function openSourceSecret(box: SecretBox, stream: string, secret: Pick<SealedSourceSecret, 'id' | 'sealed'>): string {
  let cache = opened.get(box);
  if (!cache) opened.set(box, (cache = new Map()));
  const key = `${contextOf(stream, secret.id)}\n${secret.sealed}`;
  let plaintext = cache.get(key);
  if (plaintext === undefined) {
    plaintext = box.open(secret.sealed, contextOf(stream, secret.id));
    if (cache.size >= OPENED_MAX) cache.clear();
    cache.set(key, plaintext);
  }
  return plaintext;
}
