import type { Command } from 'commander';
import { ApiClient, parseBaseUrl, type Origin } from './api-client';
import { configPath, readConfig, type CliConfig } from './config-file';
import { CliError, EXIT } from './exit-codes';

export const DEFAULT_URL = 'http://localhost:8080';

/** What every command gets from the entry: the API, the output, and the resolved settings. */
export interface CliContext {
  /** The client for this run: URL and key resolved flag > environment > config file (> default URL). */
  api(): ApiClient;
  /** --json: print the server's JSON as it came, for scripts. */
  json(): boolean;
  out(line: string): void;
  err(line: string): void;
  /** The JSON with --json, else the human text. */
  print(value: unknown, text: () => string): void;
  /**
   * The `:orgId` of a path such as /api/organisations/:orgId/webhooks: --organisation when given, else the
   * key's own organisation (the only one GET /api/organisations shows it), else `default`.
   */
  organisation(flag: string | undefined): Promise<string>;
  /** Where `tw-cli login` writes, and every run reads. */
  configPath(): string;
  /** The URL and key as resolved, with where each came from. */
  settings(): { url: URL; urlOrigin: Origin; apiKey?: string; keyOrigin: Origin };
}

export interface Io {
  out(line: string): void;
  err(line: string): void;
  env: NodeJS.ProcessEnv;
}

interface GlobalOptions {
  url?: string;
  apiKey?: string;
  json?: boolean;
}

export function createContext(program: Command, io: Io): CliContext {
  let config: CliConfig | undefined;
  let client: ApiClient | undefined;
  let organisation: Promise<string> | undefined;
  const file = () => (config ??= readConfig(configPath(io.env), io.err));

  const context: CliContext = {
    json: () => program.opts<GlobalOptions>().json === true,
    out: io.out,
    err: io.err,
    print: (value, text) => io.out(context.json() ? JSON.stringify(value, null, 2) : text()),
    configPath: () => configPath(io.env),
    settings() {
      const options = program.opts<GlobalOptions>();
      // Commander fills the option from TW_URL / TW_API_KEY when the flag is absent; empty counts as unset.
      const source = (name: 'url' | 'apiKey'): Origin => (program.getOptionValueSource(name) === 'env' ? 'env' : 'flag');
      const url = options.url ? { raw: options.url, origin: source('url') } : file().url ? { raw: file().url!, origin: 'file' as const } : { raw: DEFAULT_URL, origin: 'default' as const };
      const key = options.apiKey ? { value: options.apiKey, origin: source('apiKey') } : { value: file().api_key, origin: 'file' as const };
      return { url: parseBaseUrl(url.raw, url.origin), urlOrigin: url.origin, apiKey: key.value || undefined, keyOrigin: key.origin };
    },
    api() {
      if (!client) {
        const { url, apiKey, keyOrigin } = context.settings();
        client = new ApiClient(url, apiKey, keyOrigin);
      }
      return client;
    },
    organisation(flag) {
      if (flag !== undefined) {
        if (flag.trim() === '') return Promise.reject(new CliError('--organisation must not be empty', EXIT.usage));
        return Promise.resolve(encodeURIComponent(flag));
      }
      organisation ??= context
        .api()
        .request<{ id: string }[]>('GET', '/api/organisations')
        .then(
          (organisations) => (organisations.length === 1 ? organisations[0].id : 'default'),
          (error: unknown) => {
            // A key without the read scope cannot list them: let the request itself say what is wrong.
            if (error instanceof CliError && error.status === 403) return 'default';
            throw error;
          },
        );
      return organisation;
    },
  };
  return context;
}
