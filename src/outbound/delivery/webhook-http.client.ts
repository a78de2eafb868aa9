import type { Readable } from 'node:stream';
import { Agent, buildConnector, request } from 'undici';
import type { AddressPolicy } from './address-policy';
import { bareHost, resolveChecked, UnsafeDestination } from './destination';

/** The first bytes of a response body kept as evidence; the rest is not read. */
export const RESPONSE_EXCERPT_BYTES = 4096;

/** Response headers worth keeping with an attempt (others may carry cookies or tokens). */
const KEPT_RESPONSE_HEADERS = ['content-type', 'content-length', 'location', 'retry-after', 'date', 'server', 'x-request-id'];

export type TransportErrorClass = 'timeout' | 'dns' | 'connection' | 'tls' | 'unsafe_address' | 'network';

export interface HttpOutcome {
  /** null when no response arrived. */
  status: number | null;
  headers: Record<string, string>;
  body: string | null;
  bodyTruncated: boolean;
  durationMs: number;
  /** Set when no response arrived. */
  transportError: { class: TransportErrorClass; message: string } | null;
}

/**
 * Outbound HTTP for webhooks, with the SSRF guard at connect time: the connector resolves the host itself,
 * checks every address, and connects to the checked one, so the address that was judged is the address that
 * is used (a DNS answer that changes between check and connect — rebinding — cannot slip through). TLS still
 * verifies the certificate against the URL's hostname (servername). Redirects are never followed: undici's
 * `request` does not follow them, and a 3xx is reported like any other status.
 */
export class WebhookHttpClient {
  private readonly agent: Agent;

  constructor(policy: AddressPolicy, connectTimeoutMs: number) {
    const connect = buildConnector({ timeout: connectTimeoutMs });
    this.agent = new Agent({
      connect: (options, callback) => {
        const host = bareHost(options.hostname);
        resolveChecked(host, policy).then(
          ([target]) =>
            connect(
              {
                ...options,
                hostname: target.address,
                // SNI and certificate checks are for the name in the URL, never for the address.
                servername: options.protocol === 'https:' && target.address !== host ? (options.servername ?? host) : options.servername,
              },
              callback,
            ),
          (error: Error) => callback(error, null),
        );
      },
    });
  }

  async post(url: string, headers: Record<string, string>, body: Buffer, timeoutMs: number, abort?: AbortSignal): Promise<HttpOutcome> {
    const started = performance.now();
    const deadline = AbortSignal.timeout(timeoutMs);
    const signal = abort ? AbortSignal.any([deadline, abort]) : deadline;
    const elapsed = () => Math.round(performance.now() - started);
    try {
      const response = await request(url, {
        method: 'POST',
        headers,
        body,
        dispatcher: this.agent,
        signal,
        headersTimeout: timeoutMs,
        bodyTimeout: timeoutMs,
      });
      const { text, truncated } = await readExcerpt(response.body);
      return {
        status: response.statusCode,
        headers: keptHeaders(response.headers),
        body: text,
        bodyTruncated: truncated,
        durationMs: elapsed(),
        transportError: null,
      };
    } catch (error) {
      const timedOut = deadline.aborted;
      return {
        status: null,
        headers: {},
        body: null,
        bodyTruncated: false,
        durationMs: elapsed(),
        transportError: timedOut
          ? { class: 'timeout', message: `No complete answer within ${timeoutMs} ms` }
          : classifyTransportError(error),
      };
    }
  }

  close(): Promise<void> {
    return this.agent.destroy();
  }
}

/**
 * Reads the body's first bytes from its 'data' events. It used to iterate the body with `for await`, whose
 * async iterator cost ~35 µs per answer in the profile of bench/outbound.bench.ts (a promise per step and the
 * iterator's own machinery) for what is almost always one small chunk.
 */
function readExcerpt(body: Readable): Promise<{ text: string; truncated: boolean }> {
  return new Promise((resolve, reject) => {
    const chunks: Buffer[] = [];
    let size = 0;
    const finish = (truncated: boolean) => {
      body.off('data', onData).off('end', onEnd).off('error', onError);
      resolve({ text: Buffer.concat(chunks).subarray(0, RESPONSE_EXCERPT_BYTES).toString('utf8'), truncated });
    };
    const onData = (chunk: Buffer) => {
      chunks.push(chunk);
      size += chunk.length;
      if (size <= RESPONSE_EXCERPT_BYTES) return;
      finish(true);
      // An endless body is never read to its end; whatever the stream reports as it is torn down is moot.
      body.on('error', () => undefined).destroy();
    };
    const onEnd = () => finish(false);
    const onError = (error: Error) => {
      body.off('data', onData).off('end', onEnd);
      reject(error);
    };
    body.on('data', onData).once('end', onEnd).once('error', onError);
  });
}

function keptHeaders(headers: Record<string, string | string[] | undefined>): Record<string, string> {
  const kept: Record<string, string> = {};
  for (const name of KEPT_RESPONSE_HEADERS) {
    const value = headers[name];
    if (value !== undefined) kept[name] = (Array.isArray(value) ? value.join(', ') : value).slice(0, 512);
  }
  return kept;
}

/** Maps what Node and undici throw to a short, stable class; the message stays for people. */
export function classifyTransportError(error: unknown): { class: TransportErrorClass; message: string } {
  const chain: unknown[] = [];
  for (let e: unknown = error; e && chain.length < 5; e = (e as { cause?: unknown }).cause) chain.push(e);
  const codes = chain.map((e) => String((e as { code?: unknown }).code ?? ''));
  const message = chain.map((e) => (e as Error).message).find(Boolean) ?? String(error);
  if (chain.some((e) => e instanceof UnsafeDestination)) return { class: 'unsafe_address', message };
  if (codes.some((c) => c === 'ENOTFOUND' || c === 'EAI_AGAIN' || c === 'EAI_FAIL' || c === 'EAI_NODATA')) return { class: 'dns', message };
  if (codes.some((c) => c === 'UND_ERR_CONNECT_TIMEOUT' || c === 'UND_ERR_HEADERS_TIMEOUT' || c === 'UND_ERR_BODY_TIMEOUT')) {
    return { class: 'timeout', message };
  }
  if (codes.some((c) => c.startsWith('ERR_TLS') || c.startsWith('ERR_SSL') || /CERT|SELF_SIGNED|UNABLE_TO_VERIFY/.test(c))) {
    return { class: 'tls', message };
  }
  if (codes.some((c) => ['ECONNREFUSED', 'ECONNRESET', 'EHOSTUNREACH', 'ENETUNREACH', 'EPIPE', 'UND_ERR_SOCKET', 'ETIMEDOUT'].includes(c))) {
    return { class: 'connection', message };
  }
  return { class: 'network', message };
}
