import { randomBytes } from 'node:crypto';
import { describe, expect, it } from 'vitest';
import { SecretBox } from '../config/secret-box';
import { openHeaders, openWebhookUrl, sealWebhookUrl } from './webhook-secrets';

describe('sealed webhook URLs', () => {
  const box = new SecretBox(randomBytes(32));
  const url = 'https://hooks.slack.com/services/T000/B000/XXXXsecretXXXX';

  it('open only for the webhook and the use they were sealed for', () => {
    const sealed = sealWebhookUrl(box, 'webhooks-org-a', 'hook-1', url);
    expect(sealed).not.toContain('XXXXsecretXXXX');
    expect(openWebhookUrl(box, 'webhooks-org-a', 'hook-1', sealed)).toBe(url);
    expect(() => openWebhookUrl(box, 'webhooks-org-a', 'hook-2', sealed)).toThrow();
    expect(() => openWebhookUrl(box, 'webhooks-org-b', 'hook-1', sealed)).toThrow();
    expect(() => openHeaders(box, 'webhooks-org-a', 'hook-1', sealed)).toThrow();
  });
});
