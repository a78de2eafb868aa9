/**
 * Extra headers a webhook may send (e.g. `Authorization: Splunk <token>` for HEC). Bounded, and never one
 * that would change how the request is framed or routed (hop-by-hop, Host, Content-*) or that Towline sets
 * to identify and sign it (X-Towline-*, webhook-*, the signature header).
 */
export const MAX_HEADERS = 20;
export const MAX_HEADER_VALUE_LENGTH = 1024;
export const MAX_HEADERS_BYTES = 8192;

const TOKEN = /^[A-Za-z0-9!#$%&'*+.^_`|~-]{1,100}$/;
/** Visible ASCII, spaces and tabs: no CR, LF or NUL, so nothing can be smuggled into the request head. */
const VALUE = /^[\x20-\x7e\t]*$/;
const FORBIDDEN = new Set([
  'connection', 'keep-alive', 'proxy-authenticate', 'proxy-authorization', 'proxy-connection', 'te', 'trailer',
  'transfer-encoding', 'upgrade', 'host', 'content-length', 'content-type', 'content-encoding', 'expect', 'user-agent',
]);
const FORBIDDEN_PREFIXES = ['x-towline-', 'webhook-'];

/** The problems with a set of headers, empty when it is acceptable. */
export function headerProblems(headers: unknown, signatureHeader: string): string[] {
  if (typeof headers !== 'object' || headers === null || Array.isArray(headers)) return ['headers must be an object of header names to values'];
  const entries = Object.entries(headers as Record<string, unknown>);
  const problems: string[] = [];
  if (entries.length > MAX_HEADERS) problems.push(`at most ${MAX_HEADERS} headers`);
  let bytes = 0;
  const seen = new Set<string>();
  for (const [name, value] of entries) {
    const lower = name.toLowerCase();
    bytes += name.length + (typeof value === 'string' ? value.length : 0) + 4;
    if (!TOKEN.test(name)) problems.push(`'${name}' is not a valid header name`);
    else if (FORBIDDEN.has(lower) || FORBIDDEN_PREFIXES.some((p) => lower.startsWith(p)) || lower === signatureHeader.toLowerCase()) {
      problems.push(`'${name}' is set by Towline or by the transport and cannot be overridden`);
    } else if (seen.has(lower)) problems.push(`'${name}' is given twice`);
    seen.add(lower);
    if (typeof value !== 'string') problems.push(`the value of '${name}' must be a string`);
    else if (value.length > MAX_HEADER_VALUE_LENGTH) problems.push(`the value of '${name}' is longer than ${MAX_HEADER_VALUE_LENGTH} characters`);
    else if (!VALUE.test(value)) problems.push(`the value of '${name}' contains characters not allowed in a header`);
  }
  if (bytes > MAX_HEADERS_BYTES) problems.push(`headers must total at most ${MAX_HEADERS_BYTES} bytes`);
  return problems;
}
