import { applyDecorators } from '@nestjs/common';
import { ValidateBy, type ValidationOptions } from 'class-validator';
import { AsSent } from '../http/request-validation';
import type { SourceSettings } from './events/source.events';
import { SEVERITIES, VENDOR_FORMATS, type Severity } from './normalizers';
import { isSeverity } from './normalizers/severity';

/** What the API and the configuration file accept for a source, in one place. */

export const SOURCE_FORMATS = ['auto', ...VENDOR_FORMATS] as const;
export const SOURCE_MODES = ['sync', 'async'] as const;
/** Playbook names; the source commands check that the named one exists (src/triage/playbooks: 400 unknown_playbook). */
export const PLAYBOOK = /^[a-z0-9_]{1,64}$/;
export const SECRET_MIN_LENGTH = 8;
export const SECRET_MAX_LENGTH = 512;
export const MAX_GRACE_PERIOD_SECONDS = 30 * 24 * 3600;
export const DEFAULT_GRACE_PERIOD_SECONDS = 24 * 3600;
/** Highest per-source rate limit (requests per window): above it, 0 (no limit) says what is meant. */
export const MAX_SOURCE_RATE_LIMIT = 100_000_000;
const MAX_MAPPINGS = 100;
/** A result field's name as Splunk writes them (letters, digits, `_`, `.`, `:`, `-`). */
export const DEDUP_FIELD = /^[A-Za-z0-9_.:-]{1,100}$/;

/**
 * Keys named like a member of Object.prototype (constructor, __proto__, toString, …) are refused, not stored:
 * no vendor sends them as a severity, and a mapping free of them is safe in any code that reads it as an object.
 */
export function isSeverityMapping(value: unknown): value is Record<string, Severity> {
  if (typeof value !== 'object' || value === null || Array.isArray(value)) return false;
  const entries = Object.entries(value);
  return (
    entries.length <= MAX_MAPPINGS &&
    entries.every(([key, severity]) => key.trim().length >= 1 && key.length <= 100 && !Object.hasOwn(Object.prototype, key) && isSeverity(severity))
  );
}

export const SEVERITY_MAPPING_MESSAGE =
  `severity_mapping must map at most ${MAX_MAPPINGS} vendor values (1–100 characters, not a name of Object.prototype such as ` +
  `constructor or __proto__) to one of ${SEVERITIES.join(', ')}`;

/** Validates the mapping as it was sent (AsSent), so that a key such as `toString` is refused rather than dropped. */
export function IsSeverityMapping(options?: ValidationOptions) {
  return applyDecorators(
    AsSent(),
    ValidateBy({ name: 'isSeverityMapping', validator: { validate: isSeverityMapping, defaultMessage: () => SEVERITY_MAPPING_MESSAGE } }, options),
  );
}

/** Settings as given in snake_case (API body, configuration file) → the event's settings, with defaults. */
export interface SettingsInput {
  auto_triage?: boolean;
  playbook?: string | null;
  format?: SourceSettings['format'];
  severity_mapping?: Record<string, Severity> | null;
  project_id?: string | null;
  mode?: SourceSettings['mode'];
  rate_limit?: number | null;
  dedup_field?: string | null;
}

/** Only the fields that were given (undefined means "not given"; null clears a nullable one). */
export function settingsChanges(input: SettingsInput): Partial<SourceSettings> {
  const changes: Partial<SourceSettings> = {};
  if (input.auto_triage !== undefined) changes.autoTriage = input.auto_triage;
  if (input.playbook !== undefined) changes.playbook = input.playbook;
  if (input.format !== undefined) changes.format = input.format;
  if (input.severity_mapping !== undefined) changes.severityMapping = input.severity_mapping ?? {};
  if (input.project_id !== undefined) changes.projectId = input.project_id;
  if (input.mode !== undefined) changes.mode = input.mode;
  // Only when given: a source that never set it carries no key, so its settings (and the config file's
  // reconciliation, which compares them) stay what they were before the setting existed.
  if (input.rate_limit !== undefined) changes.rateLimit = input.rate_limit;
  if (input.dedup_field !== undefined) changes.dedupField = input.dedup_field;
  return changes;
}

export function newSettings(input: SettingsInput, managedBy: SourceSettings['managedBy']): SourceSettings {
  return {
    autoTriage: false,
    playbook: null,
    format: 'auto',
    severityMapping: {},
    projectId: null,
    mode: 'sync',
    ...settingsChanges(input),
    managedBy,
  };
}
