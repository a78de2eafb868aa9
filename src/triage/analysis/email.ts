import { domainToASCII } from 'node:url';
import type { JsonObject, JsonValue } from '../../event-store/event-store.port';
import type { TriageAlert } from '../playbooks/playbook';

/** What phishing triage needs to know about a reported email. */
export interface EmailFacts {
  sender: string | null;
  /** ASCII (IDN as `xn--…`), so lists and look-alike checks compare one spelling. */
  sender_domain: string | null;
  reply_to: string | null;
  reply_to_domain: string | null;
  subject: string | null;
  recipients: string[];
  urls: string[];
  /** Sender-side domains: sender, reply-to, URL hosts and the alert's domains, never the recipients'. */
  domains: string[];
  ips: string[];
  hashes: string[];
}

type Json = JsonValue | undefined;

const isObject = (value: Json): value is JsonObject => typeof value === 'object' && value !== null && !Array.isArray(value);
const ADDRESS = /^[^\s@<>"]{1,64}@([^\s@<>"]{1,253})$/;

/** `Name <a@b.example>` or `mailto:a@b.example` → `a@b.example` (domain in ASCII), or null. */
export function emailAddress(value: Json): string | null {
  if (typeof value !== 'string') return null;
  const bare = value.trim().replace(/^.*<([^<>]*)>$/, '$1').replace(/^mailto:/i, '').toLowerCase();
  const match = ADDRESS.exec(bare);
  if (!match) return null;
  const domain = domainToASCII(match[1]);
  return domain ? `${bare.slice(0, bare.lastIndexOf('@'))}@${domain}` : null;
}

export const domainOf = (address: string | null) => (address ? address.slice(address.lastIndexOf('@') + 1) : null);

/** Subjects are compared case- and space-insensitively, without reply/forward prefixes. */
export function normalizeSubject(subject: string): string {
  return subject
    .replace(/^\s*((re|fw|fwd|aw|wg|sv)\s*:\s*)+/i, '')
    .replace(/\s+/g, ' ')
    .trim()
    .toLowerCase();
}

/** Where email alerts keep the message: the item itself, `data`, `email`/`message`, and Graph's analyzedMessageEvidence. */
function places(raw: Json): JsonObject[] {
  if (!isObject(raw)) return [];
  const found: JsonObject[] = [raw];
  for (const key of ['data', 'email', 'message', 'details']) {
    const child = raw[key];
    if (isObject(child)) found.push(child, ...places(child).slice(1));
  }
  const evidence = raw.evidence;
  if (Array.isArray(evidence)) {
    for (const item of evidence) {
      // Only a string is a type: String() of an object whose own `toString` key holds data would throw.
      const type = isObject(item) ? item['@odata.type'] : undefined;
      if (isObject(item) && typeof type === 'string' && type.endsWith('analyzedMessageEvidence')) found.push(item);
    }
  }
  return found;
}

function first(records: JsonObject[], keys: string[], read: (value: Json) => string | null): string | null {
  for (const record of records) {
    for (const key of keys) {
      const [head, tail] = key.split('.');
      const value = tail ? (isObject(record[head]) ? (record[head] as JsonObject)[tail] : undefined) : record[key];
      const found = read(value);
      if (found) return found;
    }
  }
  return null;
}

function all(records: JsonObject[], keys: string[]): string[] {
  const found = new Set<string>();
  for (const record of records) {
    for (const key of keys) {
      const value = record[key];
      for (const item of Array.isArray(value) ? value : [value]) {
        const address = emailAddress(item);
        if (address) found.add(address);
      }
    }
  }
  return [...found];
}

const text = (value: Json) => (typeof value === 'string' && value.trim() !== '' ? value.trim() : null);

const SENDER_KEYS = ['sender', 'from', 'senderAddress', 'sender_address', 'senderFromAddress', 'SenderFromAddress', 'p1Sender.emailAddress', 'p2Sender.emailAddress'];
const REPLY_TO_KEYS = ['replyTo', 'reply_to', 'ReplyTo', 'replyToAddress', 'reply-to'];
const SUBJECT_KEYS = ['subject', 'Subject', 'emailSubject', 'messageSubject'];
const RECIPIENT_KEYS = ['recipients', 'recipient', 'to', 'Recipients', 'recipientEmailAddress'];

/**
 * Sender, reply-to, subject, recipients, URLs and domains of the reported email, from the raw payload items
 * (the vendor's own fields) and the normalized indicators. Without a sender field, the first address that is
 * no recipient is taken. Pure.
 */
export function extractEmail(alerts: readonly TriageAlert[], title: string): EmailFacts {
  const records = alerts.flatMap((a) => places(a.raw));
  const recipients = all(records, RECIPIENT_KEYS);
  const indicatorEmails = alerts.flatMap((a) => a.alert.indicators.emails).map(emailAddress).filter((e): e is string => e !== null);
  const sender = first(records, SENDER_KEYS, emailAddress) ?? indicatorEmails.find((e) => !recipients.includes(e)) ?? null;
  const replyTo = first(records, REPLY_TO_KEYS, emailAddress);
  const subject = first(records, SUBJECT_KEYS, text) ?? (/^[^:]{1,40}: (.+)$/.exec(title)?.[1] ?? null);

  const urls = new Set(alerts.flatMap((a) => a.alert.indicators.urls));
  for (const record of records) {
    const listed = record.urls ?? record.links;
    for (const url of Array.isArray(listed) ? listed : []) {
      try {
        if (typeof url === 'string') urls.add(new URL(url).href);
      } catch {
        // not a URL
      }
    }
  }
  const recipientDomains = new Set(recipients.map(domainOf));
  const domains = new Set<string>();
  for (const domain of [domainOf(sender), domainOf(replyTo), ...[...urls].map((u) => new URL(u).hostname), ...alerts.flatMap((a) => a.alert.indicators.domains)]) {
    const ascii = domain ? domainToASCII(domain) : '';
    if (ascii && !recipientDomains.has(ascii)) domains.add(ascii);
  }
  return {
    sender,
    sender_domain: domainOf(sender),
    reply_to: replyTo,
    reply_to_domain: domainOf(replyTo),
    subject,
    recipients,
    urls: [...urls],
    domains: [...domains],
    ips: [...new Set(alerts.flatMap((a) => a.alert.indicators.ips))],
    hashes: [...new Set(alerts.flatMap((a) => a.alert.indicators.hashes))],
  };
}
