import { Inject, Injectable } from '@nestjs/common';
import { SECRET_BOX, type SecretBox } from '../config/secret-box';
import type { SourceView } from './projections/sources.projection';
import { signatureHeader } from './signature';
import { activeSecrets } from './source.aggregate';
import { openSourceSecret } from './source-secrets';

export interface SignedTestEvent {
  body: string;
  headers: { 'X-Webhook-Signature': string; 'X-Webhook-Timestamp': string; 'Content-Type': string };
}

/**
 * `tw-cli webhook test`: a test event signed with the source's current secret, to be posted unchanged to
 * `/api/webhooks/:source`. The body is fixed here, so this can sign nothing else.
 */
@Injectable()
export class SourceTestEvents {
  constructor(@Inject(SECRET_BOX) private readonly box: SecretBox) {}

  sign(source: SourceView, now = Date.now()): SignedTestEvent {
    const current = activeSecrets(source.secrets, now).at(-1)!;
    const timestamp = String(Math.floor(now / 1000));
    const body = JSON.stringify({
      event_type: 'test',
      timestamp: new Date(now).toISOString(),
      source: source.name,
      data: { message: 'Towline test event' },
    });
    return {
      body,
      headers: {
        'X-Webhook-Signature': signatureHeader(openSourceSecret(this.box, source.stream, current), timestamp, Buffer.from(body, 'utf8')),
        'X-Webhook-Timestamp': timestamp,
        'Content-Type': 'application/json',
      },
    };
  }
}
