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

export function openSourceSecret(box: SecretBox, stream: string, secret: Pick<SealedSourceSecret, 'id' | 'sealed'>): string {
  return box.open(secret.sealed, contextOf(stream, secret.id));
}
