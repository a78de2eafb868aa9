import type { SecretBox } from '../config/secret-box';
import type { SealedWebhookSecret } from './events/webhook.events';

/**
 * Webhook secrets, URLs and header values are sealed (AES-256-GCM, src/config/secret-box.ts) before they
 * reach an event, bound to their organisation's webhook stream, the webhook, and their own id (a secret's
 * uuid, `url`, `headers`), so a sealed value copied elsewhere does not open.
 */
const secretContext = (stream: string, webhookId: string, secretId: string) => `${stream}/${webhookId}/${secretId}`;
const urlContext = (stream: string, webhookId: string) => `${stream}/${webhookId}/url`;
const headersContext = (stream: string, webhookId: string) => `${stream}/${webhookId}/headers`;

export function sealWebhookSecret(box: SecretBox, stream: string, webhookId: string, id: string, plaintext: string, createdAt: string): SealedWebhookSecret {
  return { id, sealed: box.seal(plaintext, secretContext(stream, webhookId, id)), createdAt };
}

export function openWebhookSecret(box: SecretBox, stream: string, webhookId: string, secret: Pick<SealedWebhookSecret, 'id' | 'sealed'>): string {
  return box.open(secret.sealed, secretContext(stream, webhookId, secret.id));
}

/** The URL may be the credential itself (Slack, Teams workflows, Discord, a signed query string). */
export function sealWebhookUrl(box: SecretBox, stream: string, webhookId: string, url: string): string {
  return box.seal(url, urlContext(stream, webhookId));
}

export function openWebhookUrl(box: SecretBox, stream: string, webhookId: string, sealed: string): string {
  return box.open(sealed, urlContext(stream, webhookId));
}

export function sealHeaders(box: SecretBox, stream: string, webhookId: string, headers: Record<string, string>): string | null {
  return Object.keys(headers).length === 0 ? null : box.seal(JSON.stringify(headers), headersContext(stream, webhookId));
}

export function openHeaders(box: SecretBox, stream: string, webhookId: string, sealed: string | null): Record<string, string> {
  return sealed === null ? {} : (JSON.parse(box.open(sealed, headersContext(stream, webhookId))) as Record<string, string>);
}
