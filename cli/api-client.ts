import { CliError, EXIT, exitCodeForStatus } from './exit-codes';

export { CliError, EXIT } from './exit-codes';

export interface ApiResponse<T> {
  status: number;
  body: T;
  headers: Headers;
}

export type Query = Record<string, string | number | boolean | undefined>;

/** Where a setting came from, to name it in an error ("TW_URL must…", "the key from ~/.config/… was refused"). */
export type Origin = 'flag' | 'env' | 'file' | 'default';

const NAMES: Record<Origin, { url: string; key: string }> = {
  flag: { url: '--url', key: '--api-key' },
  env: { url: 'TW_URL', key: 'TW_API_KEY' },
  file: { url: 'the url of the config file', key: 'the api_key of the config file' },
  default: { url: 'the default URL', key: 'the API key' },
};

const TIMEOUT_MS = 30_000;

/**
 * The base URL, with its path kept: `http://proxy/towline` and `http://proxy/towline/` both put the API at
 * `http://proxy/towline/api/…`. Anything but an absolute http(s) URL is refused here, before a request, with
 * the setting it came from named (`localhost:8080` parses as a URL whose scheme is `localhost:`).
 */
export function parseBaseUrl(raw: string, origin: Origin): URL {
  const name = NAMES[origin].url;
  const example = 'e.g. http://localhost:8080 or https://towline.example.com/towline/';
  if (!/^https?:\/\//i.test(raw.trim())) {
    throw new CliError(`${name} must start with http:// or https:// (got '${raw}')`, EXIT.usage, { hint: `Give the full URL, ${example}.` });
  }
  let url: URL;
  try {
    url = new URL(raw.trim());
  } catch {
    throw new CliError(`${name} is not a valid URL: '${raw}'`, EXIT.usage, { hint: `Give the full URL, ${example}.` });
  }
  if (url.username || url.password) {
    throw new CliError(`${name} must not hold a user name or password`, EXIT.usage, { hint: 'Pass the API key with --api-key, TW_API_KEY or `tw-cli login`.' });
  }
  if (url.search || url.hash) {
    throw new CliError(`${name} must not have a query or fragment (got '${raw}')`, EXIT.usage, { hint: `Give the base URL only, ${example}.` });
  }
  if (!url.pathname.endsWith('/')) url.pathname += '/';
  return url;
}

/** A small client for Towline's HTTP API: JSON in and out; every failure a CliError with its exit code. */
export class ApiClient {
  private towline?: Promise<unknown>;

  constructor(
    readonly baseUrl: URL,
    private readonly apiKey: string | undefined,
    private readonly keyOrigin: Origin = 'env',
  ) {}

  async request<T>(method: string, path: string, body?: unknown, query?: Query): Promise<T> {
    return (await this.exchange<T>(method, path, body, query)).body;
  }

  /** As request(), with the answer's status and headers (x-request-id names the request in the server's log). */
  async exchange<T>(method: string, path: string, body?: unknown, query?: Query): Promise<ApiResponse<T>> {
    if (!this.apiKey) {
      throw new CliError('No API key', EXIT.auth, { hint: 'Run `tw-cli login`, set TW_API_KEY, or pass --api-key tw_…' });
    }
    await this.ensureTowline();
    const headers: Record<string, string> = { authorization: `Bearer ${this.apiKey}`, accept: 'application/json' };
    if (body !== undefined) headers['content-type'] = 'application/json';
    const response = await this.send(method, path, { headers, body: body === undefined ? undefined : JSON.stringify(body) }, query);
    if (response.status >= 300) throw this.failure(method, path, response);
    return response as ApiResponse<T>;
  }

  /** Sends exactly these bytes and headers, without an API key: how a security tool posts an alert. */
  async postRaw(path: string, body: string, headers: Record<string, string>): Promise<ApiResponse<unknown>> {
    await this.ensureTowline();
    return this.send('POST', path, { headers, body });
  }

  /**
   * Refuses to go on unless the server answers `GET /health` as Towline does: status, event_store, store and
   * consumers. A proxy's default page or another service answering 200 `{}` would otherwise make every
   * list look empty and every change look done. Asked once per run; public, so it needs no key.
   */
  async ensureTowline(): Promise<void> {
    await this.health();
  }

  /** The answer of GET /health (the Towline check's), fetched once per run. */
  health(): Promise<unknown> {
    this.towline ??= (async () => {
      const response = await this.send('GET', '/health', { headers: { accept: 'application/json' } });
      const health = response.body as Record<string, unknown> | undefined;
      const looksLikeTowline =
        typeof health === 'object' &&
        health !== null &&
        ['ok', 'degraded', 'unavailable'].includes(health.status as string) &&
        typeof health.event_store === 'string' &&
        typeof health.store === 'string' &&
        Array.isArray(health.consumers);
      const location = response.headers.get('location');
      if (response.status >= 300 && response.status < 400 && location) {
        throw new CliError(`${this.baseUrl.href} redirects (GET /health → ${response.status} ${location})`, EXIT.notTowline, {
          hint: 'Use the URL it redirects to as TW_URL or --url (tw-cli does not follow redirects, so the key is never sent elsewhere).',
        });
      }
      if (!looksLikeTowline) {
        throw new CliError(`${this.baseUrl.href} is not a Towline server (GET ${this.url('/health')} answered ${response.status} without Towline's health report)`, EXIT.notTowline, {
          hint: 'Check TW_URL or --url: it must point at Towline itself, with the path prefix of a reverse proxy if there is one (e.g. http://proxy/towline/).',
        });
      }
      return health;
    })();
    return this.towline;
  }

  /** `/api/x` resolved under the base URL's path (never replacing it, as `new URL('/api/x', base)` would). */
  url(path: string, query?: Query): string {
    const url = new URL(path.replace(/^\/+/, ''), this.baseUrl);
    for (const [key, value] of Object.entries(query ?? {})) if (value !== undefined) url.searchParams.set(key, String(value));
    return url.toString();
  }

  private async send(method: string, path: string, init: { headers: Record<string, string>; body?: string }, query?: Query): Promise<ApiResponse<unknown>> {
    const url = this.url(path, query);
    let response: Response;
    try {
      response = await fetch(url, { method, ...init, redirect: 'manual', signal: AbortSignal.timeout(TIMEOUT_MS) });
    } catch (error) {
      throw this.unreachable(error);
    }
    const text = await response.text();
    let body: unknown = text === '' ? undefined : text;
    if (text !== '' && /\bjson\b/i.test(response.headers.get('content-type') ?? '')) {
      try {
        body = JSON.parse(text) as unknown;
      } catch {
        // Kept as text: failure() reports it as an answer that is not Towline's.
      }
    }
    return { status: response.status, body, headers: response.headers };
  }

  private unreachable(error: unknown): CliError {
    const name = (error as { name?: string }).name;
    const cause = (error as { cause?: { code?: string; message?: string } }).cause;
    let why = name === 'TimeoutError' ? `no answer within ${TIMEOUT_MS / 1000} s` : (cause?.code ?? cause?.message ?? (error as Error).message);
    // fetch refuses the ports browsers block (1, 9, 25, 6000, …) before connecting: say so, it looks like a typo.
    if (why === 'bad port') why = `fetch refuses to connect to port ${this.baseUrl.port}`;
    return new CliError(`Cannot reach Towline at ${this.baseUrl.href} (${why})`, EXIT.network, {
      hint: 'Is the server running there? Check TW_URL or --url (and that a proxy in between is up).',
    });
  }

  private failure(method: string, path: string, response: ApiResponse<unknown>): CliError {
    const { status } = response;
    const requestId = response.headers.get('x-request-id') ?? undefined;
    const error = (response.body as { error?: { code?: unknown; message?: unknown; details?: unknown } } | undefined)?.error;
    if (typeof error?.code !== 'string') {
      const excerpt = typeof response.body === 'string' ? `: ${response.body.slice(0, 200).replace(/\s+/g, ' ')}` : '';
      return new CliError(`${method} ${this.url(path)} answered HTTP ${status} without a Towline error${excerpt}`, EXIT.server, {
        status,
        requestId,
        hint: 'Something between tw-cli and Towline (a proxy?) answered instead of Towline; check it and TW_URL.',
      });
    }
    const code = error.code;
    const message = typeof error.message === 'string' ? error.message : `HTTP ${status}`;
    return new CliError(message, exitCodeForStatus(status), { code, status, requestId, details: detailLines(error.details), hint: this.hint(status, code, response) });
  }

  private hint(status: number, code: string, response: ApiResponse<unknown>): string | undefined {
    const key = NAMES[this.keyOrigin].key;
    if (status === 401) return `The server refused ${key}: check it, or run \`tw-cli login\` with a valid key (tw_…).`;
    if (status === 403) return 'Use a key with that scope (`tw-cli keys create --scopes …`), or the instance admin key.';
    if (code === 'invalid_transition') return 'Look at the incident (`tw-cli incidents show <incident>`): its status decides what can follow.';
    if (status === 409) return 'It conflicts with what exists now: look at it with the `show` verb, then retry or pick another name.';
    if (status === 429) return `Rate limited: retry after ${response.headers.get('retry-after') ?? 'a while'} s.`;
    if (status >= 500) return 'The server failed; its log has the reason (`tw-cli logs --filter error`, instance admin key).';
    return undefined;
  }
}

/** `details` as lines: `[{field, problems}]` from validation, `[{path, message}]` from event schemas, else JSON. */
function detailLines(details: unknown): string[] | undefined {
  if (details === undefined || details === null) return undefined;
  if (!Array.isArray(details)) return [JSON.stringify(details)];
  return details.map((item: unknown) => {
    const entry = item as { field?: unknown; problems?: unknown; path?: unknown; message?: unknown };
    if (typeof entry?.field === 'string' && Array.isArray(entry.problems)) return `${entry.field}: ${entry.problems.join('; ')}`;
    if (typeof entry?.path === 'string' && typeof entry.message === 'string') return `${entry.path || '(data)'}: ${entry.message}`;
    return typeof item === 'string' ? item : JSON.stringify(item);
  });
}
