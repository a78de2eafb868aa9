/** A small client for Towline's HTTP API: JSON in and out, errors as CliError with the server's code. */
export class CliError extends Error {
  constructor(
    message: string,
    readonly code?: string,
    readonly status?: number,
  ) {
    super(message);
  }
}

export interface ApiResponse<T> {
  status: number;
  body: T;
}

export class ApiClient {
  constructor(
    readonly baseUrl: string,
    private readonly apiKey: string | undefined,
  ) {}

  async request<T>(method: string, path: string, body?: unknown, query?: Record<string, string | number | undefined>): Promise<T> {
    const response = await this.send(method, path, body, query, true);
    if (response.status >= 400) {
      const error = (response.body as { error?: { code?: string; message?: string } })?.error;
      throw new CliError(error?.message ?? `HTTP ${response.status}`, error?.code, response.status);
    }
    return response.body as T;
  }

  /** Sends exactly these bytes and headers, without an API key: how a security tool posts an alert. */
  async postRaw(path: string, body: string, headers: Record<string, string>): Promise<ApiResponse<unknown>> {
    const response = await this.fetch(this.url(path), { method: 'POST', headers, body });
    return { status: response.status, body: await parse(response) };
  }

  private async send(
    method: string,
    path: string,
    body: unknown,
    query: Record<string, string | number | undefined> | undefined,
    authenticate: boolean,
  ): Promise<ApiResponse<unknown>> {
    const headers: Record<string, string> = {};
    if (authenticate) {
      if (!this.apiKey) throw new CliError('No API key: set TW_API_KEY or pass --api-key');
      headers.authorization = `Bearer ${this.apiKey}`;
    }
    if (body !== undefined) headers['content-type'] = 'application/json';
    const response = await this.fetch(this.url(path, query), {
      method,
      headers,
      body: body === undefined ? undefined : JSON.stringify(body),
    });
    return { status: response.status, body: await parse(response) };
  }

  private url(path: string, query?: Record<string, string | number | undefined>): string {
    const url = new URL(path, this.baseUrl.endsWith('/') ? this.baseUrl : `${this.baseUrl}/`);
    for (const [key, value] of Object.entries(query ?? {})) if (value !== undefined) url.searchParams.set(key, String(value));
    return url.toString();
  }

  private async fetch(url: string, init: RequestInit): Promise<Response> {
    try {
      return await fetch(url, init);
    } catch (error) {
      const cause = (error as { cause?: { code?: string } }).cause?.code;
      throw new CliError(`Cannot reach Towline at ${this.baseUrl}${cause ? ` (${cause})` : ''}: set TW_URL or pass --url`);
    }
  }
}

async function parse(response: Response): Promise<unknown> {
  const text = await response.text();
  if (!text) return undefined;
  try {
    return JSON.parse(text) as unknown;
  } catch {
    return text;
  }
}
