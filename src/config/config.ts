import { plainToInstance, Transform } from 'class-transformer';
import { IsIn, IsInt, IsOptional, IsString, Matches, Max, Min, MinLength, ValidateIf, validateSync } from 'class-validator';
import { resolve } from 'node:path';
import { normalizeConnectionString } from '../event-store/eventstoredb/esdb-client';
import {
  IsCidrList,
  IsDecimal,
  IsDuration,
  IsDurationList,
  IsPublicUrl,
  IsSignatureHeaderName,
  outboundConfig,
  parseDuration,
  RETRY_JITTERS,
  type OutboundConfig,
  type RetryJitter,
} from './outbound-settings';

export const APP_CONFIG = Symbol('APP_CONFIG');

const toInt = ({ value }: { value: unknown }) => (typeof value === 'string' && /^\d+$/.test(value) ? Number(value) : value);

const SLA_TARGET = String.raw`\s*(info|low|medium|high|critical)\s*=\s*[1-9]\d*[smhd]\s*\/\s*[1-9]\d*[smhd]\s*`;
/** TW_SLA_TARGETS, checked here so that parsing it (src/incidents/sla/sla-targets.ts) cannot fail later. */
const SLA_TARGETS_FORMAT = new RegExp(`^${SLA_TARGET}(,${SLA_TARGET})*$`);

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

  /**
   * esdb:// or esdb+discover://; kurrentdb:// and kurrentdb+discover:// (same protocol) are rewritten to them.
   * Checked fully at validation (see normalizeConnectionString): a nodePreference other than leader is refused.
   */
  @ValidateIf((env: EnvironmentVariables) => env.TW_EVENT_STORE === 'eventstoredb')
  @IsString()
  @Matches(/^(esdb|esdb\+discover|kurrentdb|kurrentdb\+discover|kdb|kdb\+discover):\/\//, {
    message: 'EVENTSTORE_CONNECTION_STRING must be an esdb:// (or kurrentdb://) connection string',
  })
  EVENTSTORE_CONNECTION_STRING?: string;

  /**
   * Bytes one append may take, on either store (EventStoreDB's MaxAppendSize, 1 MiB by default): an alert or
   * event over it is refused 413 event_too_large before anything is written. Keep it at or below the
   * server's own MaxAppendSize.
   */
  @IsOptional() @Transform(toInt) @IsInt() @Min(64 * 1024) @Max(16 * 1024 * 1024)
  TW_MAX_APPEND_SIZE: number = 1024 * 1024;

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

  /** Outbound webhooks and delivery: src/config/outbound-settings.ts says what each one does. */
  @IsOptional() @IsIn(['true', 'false'])
  TW_ALLOW_INSECURE_WEBHOOKS: 'true' | 'false' = 'false';

  @IsOptional() @IsCidrList()
  TW_WEBHOOK_ALLOW_CIDRS: string = '';

  @IsOptional() @IsSignatureHeaderName()
  TW_SIGNATURE_HEADER: string = 'X-Towline-Signature';

  @IsOptional() @IsDuration()
  TW_DELIVERY_TIMEOUT: string = '15s';

  @IsOptional() @IsDurationList()
  TW_DELIVERY_RETRY_SCHEDULE: string = '1m,10m,100m';

  @IsOptional() @IsIn(RETRY_JITTERS)
  TW_DELIVERY_RETRY_JITTER: RetryJitter = 'bounded';

  @IsOptional() @IsDuration()
  TW_DELIVERY_DEADLINE: string = '6h';

  @IsOptional() @IsDuration()
  TW_DELIVERY_RETRY_AFTER_MAX: string = '1h';

  @IsOptional() @Transform(toInt) @IsInt() @Min(1) @Max(1024)
  TW_DELIVERY_CONCURRENCY: number = 32;

  @IsOptional() @Transform(toInt) @IsInt() @Min(1) @Max(64)
  TW_DELIVERY_ENDPOINT_CONCURRENCY: number = 4;

  /** 0: three quarters of TW_DELIVERY_CONCURRENCY. */
  @IsOptional() @Transform(toInt) @IsInt() @Min(0) @Max(1024)
  TW_DELIVERY_ORGANISATION_CONCURRENCY: number = 0;

  @IsOptional() @Transform(toInt) @IsInt() @Min(1) @Max(1000)
  TW_DELIVERY_BREAKER_THRESHOLD: number = 5;

  @IsOptional() @IsDuration()
  TW_DELIVERY_BREAKER_COOLDOWN: string = '60s';

  @IsOptional() @IsDuration()
  TW_WEBHOOK_SECRET_GRACE: string = '24h';

  @IsOptional() @IsDuration()
  TW_WEBHOOK_AUTO_DISABLE: string = '5d';

  @IsOptional() @IsPublicUrl()
  TW_PUBLIC_URL: string = '';

  @IsOptional() @IsDuration()
  TW_DRIFT_BUCKET: string = '1h';

  @IsOptional() @IsDecimal()
  TW_DRIFT_THRESHOLD: string = '3';

  @IsOptional() @Transform(toInt) @IsInt() @Min(2) @Max(10_000)
  TW_DRIFT_MIN_SAMPLES: number = 12;

  /**
   * Incident SLA targets per severity, `<severity>=<acknowledge>/<resolve>` with durations in s, m, h or d,
   * comma-separated (e.g. `critical=15m/4h,high=1h/1d`); severities not named keep their defaults.
   */
  @IsOptional() @IsString() @Matches(SLA_TARGETS_FORMAT, {
    message: 'TW_SLA_TARGETS must look like critical=15m/4h,high=1h/1d (info, low, medium, high, critical; positive durations in s, m, h or d)',
  })
  TW_SLA_TARGETS?: string;

  /**
   * The read side's window: events of the log's tail held decoded for every consumer near the head. A
   * consumer further behind reads from the store on its own until it catches up.
   */
  @IsOptional() @Transform(toInt) @IsInt() @Min(100) @Max(1_000_000)
  TW_READ_SIDE_WINDOW: number = 10_000;

  /** /health/ready answers 503 while any read-side consumer is more than this many events behind the log. */
  @IsOptional() @Transform(toInt) @IsInt() @Min(1) @Max(10_000_000)
  TW_READY_MAX_LAG: number = 5_000;

  /** ... or has had events to handle without finishing any for longer than this (a stuck consumer). */
  @IsOptional() @IsDuration()
  TW_READY_MAX_STALL: string = '30s';

  /** How long a request presenting a Towline-Consistency token waits for this instance's read models (then 503). */
  @IsOptional() @IsDuration()
  TW_CONSISTENCY_WAIT: string = '10s';

  /** How often ledger checkpoints are taken (docs/audit.md); 0s: only on demand (POST /api/audit/checkpoints). */
  @IsOptional() @IsDuration()
  TW_AUDIT_CHECKPOINT_INTERVAL: string = '15m';

  /** The Ed25519 key that signs ledger checkpoints, PKCS#8 PEM; default: generated into TW_DATA_DIR/audit-signing.key (0600). */
  @IsOptional() @IsString() @MinLength(1)
  TW_AUDIT_SIGNING_KEY?: string;

  /** Auto-triage runs worked on at once (each run's steps stay in order). */
  @IsOptional() @Transform(toInt) @IsInt() @Min(1) @Max(64)
  TW_TRIAGE_CONCURRENCY: number = 4;

  /**
   * Rate limits, counted per instance (a cluster of N instances lets N times as much through): requests per
   * TW_RATE_LIMIT_WINDOW to one inbound source (a source's `rate_limit` overrides it), and per API key (per
   * client address for requests without one). 0 turns a limit off.
   */
  @IsOptional() @Transform(toInt) @IsInt() @Min(0) @Max(100_000_000)
  TW_WEBHOOK_RATE_LIMIT: number = 600;

  @IsOptional() @Transform(toInt) @IsInt() @Min(0) @Max(100_000_000)
  TW_API_RATE_LIMIT: number = 1_200;

  @IsOptional() @IsDuration()
  TW_RATE_LIMIT_WINDOW: string = '1m';

  /** Alerts one inbound request may carry (a batch above it is refused 413 too_many_alerts, nothing recorded). */
  @IsOptional() @Transform(toInt) @IsInt() @Min(1) @Max(100_000)
  TW_WEBHOOK_MAX_ALERTS: number = 500;

  /** The request line and headers must have arrived within this (Node's headersTimeout; 408 otherwise). */
  @IsOptional() @IsDuration()
  TW_HEADERS_TIMEOUT: string = '10s';

  /** The whole request, headers and body, must have arrived within this (Node's requestTimeout; 408 otherwise). */
  @IsOptional() @IsDuration()
  TW_REQUEST_TIMEOUT: string = '30s';

  /** When set, GET /metrics answers only requests bearing it (`Authorization: Bearer <token>`, as Prometheus sends). */
  @IsOptional() @IsString() @MinLength(16, { message: 'TW_METRICS_TOKEN must be at least 16 characters' })
  TW_METRICS_TOKEN?: string;
}

/**
 * TW_* variables that are not Towline's server configuration but are expected in the same environment
 * (tw-cli reads them), so they are not warned about.
 */
const CLIENT_VARIABLES = ['TW_URL', 'TW_API_KEY'];

export interface AppConfig {
  port: number;
  host: string;
  /** Absolute. ':memory:' keeps everything in memory (tests). */
  dataDir: string;
  eventStore: { kind: 'sqlite' } | { kind: 'eventstoredb'; connectionString: string };
  /** See TW_MAX_APPEND_SIZE. */
  maxAppendSize: number;
  adminKey?: string;
  masterKey?: Buffer;
  configFile?: string;
  logLevel: EnvironmentVariables['TW_LOG_LEVEL'];
  bodyLimit: number;
  /** See TW_WEBHOOK_SYNC_LIMIT. */
  webhookSyncLimit: number;
  /** Outbound webhooks and delivery (the TW_… variables above). */
  outbound: OutboundConfig;
  /** TW_SLA_TARGETS as given (parsed by src/incidents/sla/sla-targets.ts); undefined: the defaults. */
  slaTargets?: string;
  /** See TW_TRIAGE_CONCURRENCY. */
  triageConcurrency: number;
  /** See TW_READ_SIDE_WINDOW, TW_READY_MAX_LAG, TW_READY_MAX_STALL and TW_CONSISTENCY_WAIT. */
  readSide: { window: number; maxLag: number; maxStallMs: number; consistencyWaitMs: number };
  /** Requests per window; 0: no limit. See TW_WEBHOOK_RATE_LIMIT, TW_API_RATE_LIMIT, TW_RATE_LIMIT_WINDOW. */
  rateLimit: { webhook: number; api: number; windowMs: number };
  /** See TW_WEBHOOK_MAX_ALERTS. */
  webhookMaxAlerts: number;
  /** See TW_HEADERS_TIMEOUT and TW_REQUEST_TIMEOUT. */
  timeouts: { headersMs: number; requestMs: number };
  /** See TW_METRICS_TOKEN; undefined: /metrics is public. */
  metricsToken?: string;
  /** See TW_AUDIT_CHECKPOINT_INTERVAL (0: on demand only) and TW_AUDIT_SIGNING_KEY. */
  audit: { checkpointIntervalMs: number; signingKey?: string };
  /** TW_* variables set in the environment that this build does not know (a typo, or a removed one): warned about at start. */
  unknownVariables: string[];
}

/** Declared without a default (so absent from `new EnvironmentVariables()`'s keys), yet known. */
const OPTIONAL_VARIABLES = ['EVENTSTORE_CONNECTION_STRING', 'TW_ADMIN_KEY', 'TW_MASTER_KEY', 'TW_CONFIG', 'TW_SLA_TARGETS', 'TW_METRICS_TOKEN', 'TW_AUDIT_SIGNING_KEY'];

export class ConfigError extends Error {
  override readonly name = 'ConfigError';
}

export function loadConfig(env: NodeJS.ProcessEnv = process.env): AppConfig {
  const known = Object.keys(new EnvironmentVariables()).concat(OPTIONAL_VARIABLES);
  // Empty strings count as unset: `TW_PORT=` in a compose file should mean the default, not an error.
  const present = Object.fromEntries(known.filter((key) => env[key] !== undefined && env[key] !== '').map((key) => [key, env[key]]));
  const vars = plainToInstance(EnvironmentVariables, present);
  const errors = validateSync(vars, { whitelist: true });
  if (errors.length > 0) {
    const lines = errors.map((e) => `${e.property}=${JSON.stringify(e.value)}: ${problemOf(e.constraints ?? {})}`);
    throw new ConfigError(`Invalid configuration:\n  ${lines.join('\n  ')}`);
  }
  const unknownVariables = Object.keys(env)
    .filter((key) => key.startsWith('TW_') && !known.includes(key) && !CLIENT_VARIABLES.includes(key))
    .sort();
  let connectionString: string | undefined;
  if (vars.TW_EVENT_STORE === 'eventstoredb') {
    try {
      connectionString = normalizeConnectionString(vars.EVENTSTORE_CONNECTION_STRING!);
    } catch (error) {
      throw new ConfigError(`Invalid configuration:\n  EVENTSTORE_CONNECTION_STRING: ${(error as Error).message}`);
    }
  }
  return {
    port: vars.TW_PORT,
    host: vars.TW_HOST,
    dataDir: vars.TW_DATA_DIR === ':memory:' ? ':memory:' : resolve(vars.TW_DATA_DIR),
    eventStore: connectionString ? { kind: 'eventstoredb', connectionString } : { kind: 'sqlite' },
    maxAppendSize: vars.TW_MAX_APPEND_SIZE,
    adminKey: vars.TW_ADMIN_KEY,
    masterKey: vars.TW_MASTER_KEY ? decodeKey(vars.TW_MASTER_KEY) : undefined,
    configFile: vars.TW_CONFIG ? resolve(vars.TW_CONFIG) : undefined,
    logLevel: vars.TW_LOG_LEVEL,
    bodyLimit: vars.TW_BODY_LIMIT,
    webhookSyncLimit: vars.TW_WEBHOOK_SYNC_LIMIT,
    outbound: outboundConfig(vars),
    slaTargets: vars.TW_SLA_TARGETS,
    triageConcurrency: vars.TW_TRIAGE_CONCURRENCY,
    readSide: { window: vars.TW_READ_SIDE_WINDOW, maxLag: vars.TW_READY_MAX_LAG, maxStallMs: parseDuration(vars.TW_READY_MAX_STALL), consistencyWaitMs: parseDuration(vars.TW_CONSISTENCY_WAIT) },
    rateLimit: { webhook: vars.TW_WEBHOOK_RATE_LIMIT, api: vars.TW_API_RATE_LIMIT, windowMs: parseDuration(vars.TW_RATE_LIMIT_WINDOW) },
    webhookMaxAlerts: vars.TW_WEBHOOK_MAX_ALERTS,
    timeouts: { headersMs: parseDuration(vars.TW_HEADERS_TIMEOUT), requestMs: parseDuration(vars.TW_REQUEST_TIMEOUT) },
    metricsToken: vars.TW_METRICS_TOKEN,
    audit: { checkpointIntervalMs: parseDuration(vars.TW_AUDIT_CHECKPOINT_INTERVAL), signingKey: vars.TW_AUDIT_SIGNING_KEY },
    unknownVariables,
  };
}

/**
 * One problem per variable: when the value is not even of the right type, that alone — TW_PORT=abc "must be an
 * integer", not also "must not be less than 0" and "must not be greater than 65535".
 */
function problemOf(constraints: Record<string, string>): string {
  const typeProblem = constraints.isInt ?? constraints.isString;
  return typeProblem ?? Object.values(constraints).join('; ');
}

function decodeKey(text: string): Buffer {
  return /^[0-9a-fA-F]{64}$/.test(text) ? Buffer.from(text, 'hex') : Buffer.from(text, 'base64');
}
