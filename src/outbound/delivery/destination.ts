import { lookup } from 'node:dns/promises';
import { isIP } from 'node:net';
import { AppError } from '../../http/app-error';
import type { AddressPolicy } from './address-policy';

export const MAX_URL_LENGTH = 2048;

/** Raised where a destination is refused by the SSRF guard; `unsafe_url` at creation, `unsafe_address` on connect. */
export class UnsafeDestination extends Error {
  override readonly name = 'UnsafeDestination';
  readonly code = 'TW_UNSAFE_DESTINATION';
}

const invalidUrl = (message: string) => new AppError(400, 'invalid_url', message);
const unsafeUrl = (message: string) => new AppError(400, 'unsafe_url', message);

/** The hostname of a parsed URL as an address or a DNS name: IPv6 literals lose their brackets. */
export const bareHost = (hostname: string) => hostname.replace(/^\[|\]$/g, '');

/**
 * Every address `host` stands for, each checked: an IP literal is itself; a name is resolved (all its A and
 * AAAA records) and refused if any of them is refused, so that a name cannot smuggle a private address in
 * beside a public one. Resolution failures propagate as they are (ENOTFOUND, EAI_AGAIN).
 */
export async function resolveChecked(host: string, policy: AddressPolicy): Promise<{ address: string; family: 4 | 6 }[]> {
  const family = isIP(host);
  const addresses = family !== 0 ? [{ address: host, family }] : await lookup(host, { all: true, order: 'verbatim' });
  for (const { address } of addresses) {
    const verdict = policy.check(address);
    if (!verdict.allowed) throw new UnsafeDestination(`${host} resolves to a refused address: ${verdict.reason}`);
  }
  return addresses.map(({ address, family }) => ({ address, family: family === 6 ? 6 : 4 }));
}

/**
 * Checks a webhook URL when it is registered: http(s) only, https unless insecure webhooks are allowed, no
 * credentials in it, and every address it names or resolves to allowed by the SSRF guard. WHATWG URL
 * parsing has already turned every IPv4 spelling (2130706433, 0x7f000001, 0177.0.0.1, 127.1) into dotted
 * decimal, so the guard sees the address that would really be reached. A name that does not resolve right
 * now is accepted: DNS may be briefly unavailable, and the connect-time check is the one that counts.
 * Returns the normalised URL.
 */
export async function checkWebhookUrl(raw: string, policy: AddressPolicy, allowInsecure: boolean): Promise<string> {
  if (raw.length > MAX_URL_LENGTH) throw invalidUrl(`url must be at most ${MAX_URL_LENGTH} characters`);
  if (!URL.canParse(raw)) throw invalidUrl('url is not a valid absolute URL');
  const url = new URL(raw);
  if (url.protocol !== 'https:' && url.protocol !== 'http:') throw invalidUrl('url must be http or https');
  if (url.protocol === 'http:' && !allowInsecure) {
    throw invalidUrl('url must be https (http is accepted only when TW_ALLOW_INSECURE_WEBHOOKS=true)');
  }
  if (url.username || url.password) throw invalidUrl('url must not carry credentials; send them in headers');
  if (url.hash) throw invalidUrl('url must not have a fragment');
  try {
    await resolveChecked(bareHost(url.hostname), policy);
  } catch (error) {
    if (error instanceof UnsafeDestination) throw unsafeUrl(error.message);
    // Not resolvable now: accepted (see above).
  }
  return url.href;
}
