import { Injectable } from '@nestjs/common';
import { createHash } from 'node:crypto';
import { truncateText } from '../../http/text';

/** What an authenticated request was refused for, as `GET /api/webhooks/:source/rejected` lists it. */
export interface RejectedWebhook {
  received_at: string;
  request_id: string | null;
  code: string;
  message: string;
  content_type: string | null;
  size: number;
  body_sha256: string;
  /** The start of the body (text when it is UTF-8, else its first bytes in base64), enough to see what the tool sent. */
  body_excerpt: string;
  body_encoding: 'utf8' | 'base64';
  body_truncated: boolean;
}

/** Per source; with the excerpt's cap, at most about 100 KB per source. */
export const REJECTED_PER_SOURCE = 50;
const EXCERPT_CHARACTERS = 2_048;

/**
 * Requests that passed the signature check but were refused for their content (not JSON, not alerts, too many
 * alerts, invalid text), so an operator can see what a tool sent without anything reaching the event log: the
 * log is for facts about alerts, and a refused request is none. Instance-local and in memory on purpose — it
 * is a diagnostic, bounded per source (oldest dropped first), gone on restart, and only authenticated requests
 * land here, so a stranger cannot fill it. Unauthenticated refusals are counted in /metrics and logged instead.
 */
@Injectable()
export class RejectedRequests {
  private readonly bySource = new Map<string, RejectedWebhook[]>();

  record(
    sourceStream: string,
    refusal: { code: string; message: string },
    request: { body: Buffer; contentType: string | undefined; requestId?: string },
    at = new Date(),
  ): void {
    const text = request.body.toString('utf8');
    const utf8 = Buffer.from(text, 'utf8').equals(request.body);
    const excerpt = utf8 ? truncateText(text, EXCERPT_CHARACTERS) : request.body.subarray(0, EXCERPT_CHARACTERS).toString('base64');
    const entry: RejectedWebhook = {
      received_at: at.toISOString(),
      request_id: request.requestId ?? null,
      code: refusal.code,
      message: truncateText(refusal.message, 500),
      content_type: request.contentType?.slice(0, 200) ?? null,
      size: request.body.length,
      body_sha256: createHash('sha256').update(request.body).digest('hex'),
      body_excerpt: excerpt,
      body_encoding: utf8 ? 'utf8' : 'base64',
      body_truncated: (utf8 ? text.length : request.body.length) > EXCERPT_CHARACTERS,
    };
    const list = this.bySource.get(sourceStream) ?? [];
    list.push(entry);
    if (list.length > REJECTED_PER_SOURCE) list.splice(0, list.length - REJECTED_PER_SOURCE);
    this.bySource.set(sourceStream, list);
  }

  /** Newest first. */
  list(sourceStream: string): RejectedWebhook[] {
    return [...(this.bySource.get(sourceStream) ?? [])].reverse();
  }
}
