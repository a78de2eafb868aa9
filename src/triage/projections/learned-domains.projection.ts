import { Inject, Injectable } from '@nestjs/common';
import type { IEvent } from '@nestjs/cqrs';
import type { StatementSync } from 'node:sqlite';
import { StoreConsumer, type StoreConsumerHandler } from '../../cqrs/store-consumer';
import type { JsonValue } from '../../event-store/event-store.port';
import { AlertReceived } from '../../inbound/events/alert.events';
import { READ_MODEL_DATABASE, type ReadModelDatabase } from '../../read-model/read-model.database';
import { domainOf, extractEmail } from '../analysis/email';
import { registrableDomain } from '../analysis/lookalike';
import { rawItem } from '../runner/raw-item';

export const LEARNED_DOMAINS_PROJECTION = 'triage-learned-domains';

/**
 * The organisation's own domains, learned from the recipients of the emails its alerts report (Defender's
 * `data.recipients`, Graph's `recipientEmailAddress`, any `to`/`recipients` field): the people a phishing
 * email is sent to are the organisation's, so their registrable domains are what a look-alike imitates.
 * A projection, not events: nothing is appended per alert, and a rebuild learns the same.
 */
@StoreConsumer({ name: LEARNED_DOMAINS_PROJECTION, tables: ['triage_learned_domains'], events: [AlertReceived] })
@Injectable()
export class LearnedDomainsProjection implements StoreConsumerHandler {
  private readonly sql: Record<string, StatementSync>;

  constructor(@Inject(READ_MODEL_DATABASE) readModels: ReadModelDatabase) {
    const db = readModels.db;
    db.exec(`
      CREATE TABLE IF NOT EXISTS triage_learned_domains (
        organisation_id TEXT NOT NULL, domain TEXT NOT NULL, alerts INTEGER NOT NULL, first_seen_at TEXT NOT NULL, last_seen_at TEXT NOT NULL,
        PRIMARY KEY (organisation_id, domain)
      );
    `);
    this.sql = {
      learn: db.prepare(
        `INSERT INTO triage_learned_domains (organisation_id, domain, alerts, first_seen_at, last_seen_at) VALUES (?, ?, 1, ?, ?)
         ON CONFLICT (organisation_id, domain) DO UPDATE SET alerts = alerts + 1, last_seen_at = max(last_seen_at, excluded.last_seen_at)`,
      ),
      domains: db.prepare('SELECT domain FROM triage_learned_domains WHERE organisation_id = ? ORDER BY alerts DESC, domain LIMIT ?'),
    };
  }

  handle(event: IEvent): void {
    if (!(event instanceof AlertReceived) || event.bodyEncoding !== 'utf8') return;
    let body: JsonValue;
    try {
      body = JSON.parse(event.body) as JsonValue;
    } catch {
      return;
    }
    const learned = new Set<string>();
    for (const [index, alert] of event.alerts.entries()) {
      if (alert.action !== 'trigger') continue;
      const email = extractEmail([{ id: '', receivedAt: event.receivedAt, alert, raw: rawItem(body, index) }], alert.title);
      for (const recipient of email.recipients) {
        const domain = domainOf(recipient);
        if (domain && domain.includes('.')) learned.add(registrableDomain(domain));
      }
    }
    for (const domain of learned) this.sql.learn.run(event.organisationId, domain, event.receivedAt, event.receivedAt);
  }

  /** The organisation's learned domains, the most often seen first. */
  domains(organisationId: string, limit = 1000): string[] {
    return (this.sql.domains.all(organisationId, limit) as { domain: string }[]).map((row) => row.domain);
  }
}
