import { applyDecorators } from '@nestjs/common';
import { plainToInstance, Type } from 'class-transformer';
import {
  ArrayMaxSize,
  IsArray,
  IsBoolean,
  IsIn,
  IsInt,
  IsObject,
  IsOptional,
  IsString,
  Length,
  Matches,
  Max,
  Min,
  ValidateNested,
  validateSync,
  type ValidationError,
} from 'class-validator';
import { SEVERITIES, type Severity } from '../contracts/alert';
import { VERDICTS, type Verdict } from './events/triage.events';

export const CRITICALITIES = ['critical', 'high', 'medium', 'low'] as const;
export type Criticality = (typeof CRITICALITIES)[number];

/** Indicator lists, all compared case-insensitively; domains match their subdomains, ips may be CIDR ranges. */
export interface IndicatorLists {
  domains: string[];
  urls: string[];
  ips: string[];
  hashes: string[];
  emails: string[];
}

/** First match wins; an empty rule matches everything. */
export interface RoutingRule {
  verdict?: Verdict[];
  severity?: Severity[];
  playbook?: string;
  source?: string;
  escalated?: boolean;
  assignee: string;
}

/**
 * What the playbooks are configured with: the `playbooks:` section of the configuration file (TW_CONFIG),
 * for every organisation of the instance. docs/triage.md documents each key and its default.
 */
export interface PlaybookSettings {
  protectedDomains: string[];
  allow: IndicatorLists;
  block: IndicatorLists;
  /** Host name patterns (`*` any characters, `?` one) → criticality; the first matching pattern wins. */
  assetCriticality: { pattern: string; criticality: Criticality }[];
  thresholds: {
    maliciousScore: number;
    suspiciousScore: number;
    lookalikeDistance: number;
    campaignWindowMinutes: number;
    campaignSize: number;
    repeatWindowMinutes: number;
    repeatDetections: number;
    duplicateWindowMinutes: number;
  };
  routing: RoutingRule[];
  retry: { maxAttempts: number; backoffSeconds: number; stepTimeoutSeconds: number };
  /** Testing aid only: `<playbook>.<step>` → milliseconds to wait before the step runs (crash tests, demos). */
  stepDelaysMs: Record<string, number>;
}

const emptyLists = (): IndicatorLists => ({ domains: [], urls: [], ips: [], hashes: [], emails: [] });

export const DEFAULT_PLAYBOOK_SETTINGS: PlaybookSettings = {
  protectedDomains: [],
  allow: emptyLists(),
  block: emptyLists(),
  assetCriticality: [],
  thresholds: {
    maliciousScore: 70,
    suspiciousScore: 30,
    lookalikeDistance: 2,
    campaignWindowMinutes: 60,
    campaignSize: 3,
    repeatWindowMinutes: 60,
    repeatDetections: 3,
    duplicateWindowMinutes: 60,
  },
  routing: [],
  retry: { maxAttempts: 3, backoffSeconds: 5, stepTimeoutSeconds: 30 },
  stepDelaysMs: {},
};

const MAX_LIST = 10_000;
const List = () => applyDecorators(IsOptional(), IsArray(), ArrayMaxSize(MAX_LIST), IsString({ each: true }), Length(1, 2048, { each: true }));

class ListsEntry {
  @List() domains?: string[];
  @List() urls?: string[];
  @List() ips?: string[];
  @List() hashes?: string[];
  @List() emails?: string[];
}

class CriticalityEntry {
  @IsString() @Length(1, 255) pattern: string;
  @IsIn(CRITICALITIES) criticality: Criticality;
}

class ThresholdsEntry {
  @IsOptional() @IsInt() @Min(1) @Max(100) malicious_score?: number;
  @IsOptional() @IsInt() @Min(0) @Max(100) suspicious_score?: number;
  @IsOptional() @IsInt() @Min(1) @Max(5) lookalike_distance?: number;
  @IsOptional() @IsInt() @Min(1) @Max(10_080) campaign_window_minutes?: number;
  @IsOptional() @IsInt() @Min(2) @Max(10_000) campaign_size?: number;
  @IsOptional() @IsInt() @Min(1) @Max(10_080) repeat_window_minutes?: number;
  @IsOptional() @IsInt() @Min(2) @Max(10_000) repeat_detections?: number;
  @IsOptional() @IsInt() @Min(1) @Max(10_080) duplicate_window_minutes?: number;
}

class RoutingEntry {
  @IsOptional() @IsArray() @IsIn(VERDICTS, { each: true }) verdict?: Verdict[];
  @IsOptional() @IsArray() @IsIn(SEVERITIES, { each: true }) severity?: Severity[];
  @IsOptional() @IsString() playbook?: string;
  @IsOptional() @IsString() source?: string;
  @IsOptional() @IsBoolean() escalated?: boolean;
  @IsString() @Length(1, 200) assignee: string;
}

class RetryEntry {
  @IsOptional() @IsInt() @Min(1) @Max(20) max_attempts?: number;
  @IsOptional() @IsInt() @Min(0) @Max(86_400) backoff_seconds?: number;
  @IsOptional() @IsInt() @Min(1) @Max(3_600) step_timeout_seconds?: number;
}

class TestingEntry {
  @IsOptional() @IsObject() step_delay_ms?: Record<string, number>;
}

class PlaybooksSection {
  @IsOptional() @IsArray() @ArrayMaxSize(MAX_LIST) @IsString({ each: true })
  @Matches(/^(?=.{1,253}$)[\p{L}\p{N}-]+(\.[\p{L}\p{N}-]+)+\.?$/iu, { each: true, message: 'protected_domains must be domain names (e.g. paypal.com)' })
  protected_domains?: string[];

  @IsOptional() @ValidateNested() @Type(() => ListsEntry) allow?: ListsEntry;
  @IsOptional() @ValidateNested() @Type(() => ListsEntry) block?: ListsEntry;
  @IsOptional() @IsArray() @ValidateNested({ each: true }) @Type(() => CriticalityEntry) asset_criticality?: CriticalityEntry[];
  @IsOptional() @ValidateNested() @Type(() => ThresholdsEntry) thresholds?: ThresholdsEntry;
  @IsOptional() @IsArray() @ValidateNested({ each: true }) @Type(() => RoutingEntry) routing?: RoutingEntry[];
  @IsOptional() @ValidateNested() @Type(() => RetryEntry) retry?: RetryEntry;
  @IsOptional() @ValidateNested() @Type(() => TestingEntry) testing?: TestingEntry;
}

/** A single value where a list is expected (`verdict: malicious`) is read as a one-item list. */
function listify(rules: unknown): unknown {
  if (!Array.isArray(rules)) return rules;
  return rules.map((rule) => {
    if (typeof rule !== 'object' || rule === null) return rule;
    const copy = { ...(rule as Record<string, unknown>) };
    for (const key of ['verdict', 'severity']) if (typeof copy[key] === 'string') copy[key] = [copy[key]];
    return copy;
  });
}

function problems(errors: ValidationError[], path = ''): string[] {
  return errors.flatMap((error) => {
    const where = path ? `${path}.${error.property}` : error.property;
    const own = Object.values(error.constraints ?? {}).map((message) => `${where}: ${message}`);
    return [...own, ...problems(error.children ?? [], where)];
  });
}

const lower = (values: string[] | undefined) => (values ?? []).map((v) => v.trim().toLowerCase()).filter((v) => v !== '');
const lists = (entry: ListsEntry | undefined): IndicatorLists => ({
  domains: lower(entry?.domains).map((d) => d.replace(/\.$/, '')),
  urls: lower(entry?.urls),
  ips: lower(entry?.ips),
  hashes: lower(entry?.hashes),
  emails: lower(entry?.emails),
});

/**
 * The `playbooks:` section (already parsed from YAML, variables substituted) → settings with defaults.
 * Throws an Error listing every problem, each with its path; `known` is the playbook names this build has,
 * which routing rules and step delays may name.
 */
export function parsePlaybookSettings(section: unknown, known: readonly string[]): PlaybookSettings {
  if (section === undefined || section === null) return DEFAULT_PLAYBOOK_SETTINGS;
  if (typeof section !== 'object' || Array.isArray(section)) throw new Error('must be a mapping (protected_domains, allow, block, …)');
  const raw = { ...(section as Record<string, unknown>) };
  raw.routing = listify(raw.routing);
  const entry = plainToInstance(PlaybooksSection, raw);
  const found = problems(validateSync(entry, { whitelist: true, forbidNonWhitelisted: true }));

  const delays = entry.testing?.step_delay_ms ?? {};
  for (const [key, ms] of Object.entries(delays)) {
    const [playbook] = key.split('.');
    if (!known.includes(playbook) || !/^[a-z0-9_]+\.[a-z0-9_]+$/.test(key)) found.push(`testing.step_delay_ms: '${key}' is not <playbook>.<step>`);
    if (!Number.isInteger(ms) || ms < 0 || ms > 3_600_000) found.push(`testing.step_delay_ms.${key}: must be 0–3600000 milliseconds`);
  }
  for (const [i, rule] of (entry.routing ?? []).entries()) {
    if (rule.playbook !== undefined && !known.includes(rule.playbook)) found.push(`routing[${i}].playbook: unknown_playbook '${rule.playbook}'`);
  }
  if (found.length > 0) throw new Error(found.join('; '));

  const defaults = DEFAULT_PLAYBOOK_SETTINGS;
  const t = entry.thresholds ?? {};
  const thresholds = {
    maliciousScore: t.malicious_score ?? defaults.thresholds.maliciousScore,
    suspiciousScore: t.suspicious_score ?? defaults.thresholds.suspiciousScore,
    lookalikeDistance: t.lookalike_distance ?? defaults.thresholds.lookalikeDistance,
    campaignWindowMinutes: t.campaign_window_minutes ?? defaults.thresholds.campaignWindowMinutes,
    campaignSize: t.campaign_size ?? defaults.thresholds.campaignSize,
    repeatWindowMinutes: t.repeat_window_minutes ?? defaults.thresholds.repeatWindowMinutes,
    repeatDetections: t.repeat_detections ?? defaults.thresholds.repeatDetections,
    duplicateWindowMinutes: t.duplicate_window_minutes ?? defaults.thresholds.duplicateWindowMinutes,
  };
  if (thresholds.suspiciousScore >= thresholds.maliciousScore) throw new Error('thresholds: suspicious_score must be below malicious_score');
  return {
    protectedDomains: lower(entry.protected_domains).map((d) => d.replace(/\.$/, '')),
    allow: lists(entry.allow),
    block: lists(entry.block),
    assetCriticality: (entry.asset_criticality ?? []).map((c) => ({ pattern: c.pattern.trim().toLowerCase(), criticality: c.criticality })),
    thresholds,
    routing: (entry.routing ?? []).map((rule) => ({ ...rule })),
    retry: {
      maxAttempts: entry.retry?.max_attempts ?? defaults.retry.maxAttempts,
      backoffSeconds: entry.retry?.backoff_seconds ?? defaults.retry.backoffSeconds,
      stepTimeoutSeconds: entry.retry?.step_timeout_seconds ?? defaults.retry.stepTimeoutSeconds,
    },
    stepDelaysMs: { ...delays },
  };
}
