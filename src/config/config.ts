import { plainToInstance, Transform } from 'class-transformer';
import { IsIn, IsInt, IsOptional, IsString, Matches, Max, Min, MinLength, ValidateIf, validateSync } from 'class-validator';
import { resolve } from 'node:path';

export const APP_CONFIG = Symbol('APP_CONFIG');

const toInt = ({ value }: { value: unknown }) => (typeof value === 'string' && /^\d+$/.test(value) ? Number(value) : value);

/**
 * The environment, validated once at boot into one typed object (immich's ConfigRepository pattern). A bad
 * value stops the boot with a message naming the variable. Later capabilities add their variables here.
 */
export class EnvironmentVariables {
  @IsOptional() @Transform(toInt) @IsInt() @Min(0) @Max(65535)
  TW_PORT: number = 8080;

  @IsOptional() @IsString() @MinLength(1)
  TW_HOST: string = '0.0.0.0';

  @IsOptional() @IsString() @MinLength(1)
  TW_DATA_DIR: string = './data';

  @IsOptional() @IsIn(['sqlite', 'eventstoredb'])
  TW_EVENT_STORE: 'sqlite' | 'eventstoredb' = 'sqlite';

  @ValidateIf((env: EnvironmentVariables) => env.TW_EVENT_STORE === 'eventstoredb')
  @IsString()
  @Matches(/^(esdb|esdb\+discover|kurrentdb|kurrentdb\+discover|kdb|kdb\+discover):\/\//, {
    message: 'EVENTSTORE_CONNECTION_STRING must be an esdb:// (or kurrentdb://) connection string',
  })
  EVENTSTORE_CONNECTION_STRING?: string;

  @IsOptional() @IsString() @Matches(/^tw_[A-Za-z0-9_-]{32,}$/, {
    message: 'TW_ADMIN_KEY must look like tw_ followed by at least 32 URL-safe characters',
  })
  TW_ADMIN_KEY?: string;

  @ValidateIf((env: EnvironmentVariables) => env.TW_EVENT_STORE === 'eventstoredb' || env.TW_MASTER_KEY !== undefined)
  @IsString()
  @Matches(/^([0-9a-fA-F]{64}|[A-Za-z0-9+/]{43}=)$/, {
    message:
      'TW_MASTER_KEY must be 32 bytes as 64 hex characters or base64 (required with TW_EVENT_STORE=eventstoredb, so that every instance shares it)',
  })
  TW_MASTER_KEY?: string;

  @IsOptional() @IsString() @MinLength(1)
  TW_CONFIG?: string;

  @IsOptional() @IsIn(['fatal', 'error', 'warn', 'info', 'debug', 'trace', 'silent'])
  TW_LOG_LEVEL: 'fatal' | 'error' | 'warn' | 'info' | 'debug' | 'trace' | 'silent' = 'info';

  @IsOptional() @Transform(toInt) @IsInt() @Min(1024) @Max(64 * 1024 * 1024)
  TW_BODY_LIMIT: number = 1024 * 1024;

  /**
   * Inbound webhooks processed synchronously at once; a request arriving while this many are in flight is
   * queued (202 "queued") instead of waiting. 0 queues every request.
   */
  @IsOptional() @Transform(toInt) @IsInt() @Min(0) @Max(100_000)
  TW_WEBHOOK_SYNC_LIMIT: number = 256;
}

export interface AppConfig {
  port: number;
  host: string;
  /** Absolute. ':memory:' keeps everything in memory (tests). */
  dataDir: string;
  eventStore: { kind: 'sqlite' } | { kind: 'eventstoredb'; connectionString: string };
  adminKey?: string;
  masterKey?: Buffer;
  configFile?: string;
  logLevel: EnvironmentVariables['TW_LOG_LEVEL'];
  bodyLimit: number;
  /** See TW_WEBHOOK_SYNC_LIMIT. */
  webhookSyncLimit: number;
}

export class ConfigError extends Error {
  override readonly name = 'ConfigError';
}

export function loadConfig(env: NodeJS.ProcessEnv = process.env): AppConfig {
  // Empty strings count as unset: `TW_PORT=` in a compose file should mean the default, not an error.
  const present = Object.fromEntries(
    Object.keys(new EnvironmentVariables())
      .concat(['EVENTSTORE_CONNECTION_STRING', 'TW_ADMIN_KEY', 'TW_MASTER_KEY', 'TW_CONFIG'])
      .filter((key) => env[key] !== undefined && env[key] !== '')
      .map((key) => [key, env[key]]),
  );
  const vars = plainToInstance(EnvironmentVariables, present);
  const errors = validateSync(vars, { whitelist: true });
  if (errors.length > 0) {
    const lines = errors.map((e) => `${e.property}=${JSON.stringify(e.value)}: ${Object.values(e.constraints ?? {}).join('; ')}`);
    throw new ConfigError(`Invalid configuration:\n  ${lines.join('\n  ')}`);
  }
  return {
    port: vars.TW_PORT,
    host: vars.TW_HOST,
    dataDir: vars.TW_DATA_DIR === ':memory:' ? ':memory:' : resolve(vars.TW_DATA_DIR),
    eventStore:
      vars.TW_EVENT_STORE === 'eventstoredb'
        ? { kind: 'eventstoredb', connectionString: vars.EVENTSTORE_CONNECTION_STRING! }
        : { kind: 'sqlite' },
    adminKey: vars.TW_ADMIN_KEY,
    masterKey: vars.TW_MASTER_KEY ? decodeKey(vars.TW_MASTER_KEY) : undefined,
    configFile: vars.TW_CONFIG ? resolve(vars.TW_CONFIG) : undefined,
    logLevel: vars.TW_LOG_LEVEL,
    bodyLimit: vars.TW_BODY_LIMIT,
    webhookSyncLimit: vars.TW_WEBHOOK_SYNC_LIMIT,
  };
}

function decodeKey(text: string): Buffer {
  return /^[0-9a-fA-F]{64}$/.test(text) ? Buffer.from(text, 'hex') : Buffer.from(text, 'base64');
}
