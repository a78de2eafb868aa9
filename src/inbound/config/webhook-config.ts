import { plainToInstance } from 'class-transformer';
import { IsString, Length, validateSync, type ValidationError } from 'class-validator';
import { readFileSync } from 'node:fs';
import { parse } from 'yaml';
import { ConfigError } from '../../config/config';
import { parsePlaybookSettings, type PlaybookSettings } from '../../triage/playbook-settings';
import { PLAYBOOK_NAMES, PLAYBOOKS } from '../../triage/playbooks';
import { SourceSettingsDto } from '../http/sources.dto';
import { SOURCE_NAME } from '../source.aggregate';
import { SECRET_MAX_LENGTH, SECRET_MIN_LENGTH, type SettingsInput } from '../source-settings';

/**
 * The configuration file (TW_CONFIG, the seed's webhook_config.yaml):
 *
 *   sources:
 *     email-gateway:
 *       secret: "${EMAIL_GATEWAY_SECRET}"
 *       auto_triage: true
 *       playbook: phishing_triage
 *       severity_mapping: { critical: critical, high: high }
 *
 * Each top-level section has its handler here: `sources:`, and `playbooks:` (the auto-triage settings, read by
 * src/triage/playbook-settings.ts; docs/triage.md). A section this build does not know is skipped with a
 * warning, so a newer file still starts an older Towline; a key it does not know inside a section is an
 * error, because a misspelt `auto_triage` must not silently mean false. A source naming a playbook this
 * build does not have stops the boot (unknown_playbook), as the API refuses it.
 *
 * `${NAME}` in any string value is replaced by the environment variable NAME after the YAML is parsed (so a
 * secret holding quotes, `#` or `: ` cannot change the file's structure, and values stay text: booleans are
 * written in the file); `$${` stands for a literal `${`. A variable that is unset or empty stops the boot,
 * naming it.
 */

export interface SourceDeclaration {
  name: string;
  secret: string;
  settings: SettingsInput;
}

export interface WebhookConfig {
  sources: SourceDeclaration[];
  /** The `playbooks:` section, with defaults for what it does not say. */
  playbooks: PlaybookSettings;
  warnings: string[];
}

/** A source's entry: the API's settings fields (same rules) plus its secret, which the file must give. */
class SourceEntry extends SourceSettingsDto {
  @IsString() @Length(SECRET_MIN_LENGTH, SECRET_MAX_LENGTH)
  secret: string;
}

const SECTIONS = ['sources', 'playbooks'] as const;
const VARIABLE = /\$(\$)?\{([^}]*)\}/g;
const VARIABLE_NAME = /^[A-Za-z_][A-Za-z0-9_]*$/;

const isMapping = (value: unknown): value is Record<string, unknown> =>
  typeof value === 'object' && value !== null && !Array.isArray(value);

export function loadWebhookConfig(path: string, env: NodeJS.ProcessEnv): WebhookConfig {
  let text: string;
  try {
    text = readFileSync(path, 'utf8');
  } catch (error) {
    throw new ConfigError(`TW_CONFIG: cannot read ${path}: ${(error as Error).message}`);
  }
  return parseWebhookConfig(text, env, path);
}

export function parseWebhookConfig(text: string, env: NodeJS.ProcessEnv, file = 'webhook_config.yaml'): WebhookConfig {
  const fail = (where: string, message: string) => new ConfigError(`${file}: ${where ? `${where}: ` : ''}${message}`);
  let document: unknown;
  try {
    document = parse(text, { uniqueKeys: true });
  } catch (error) {
    throw fail('', `not valid YAML: ${(error as Error).message}`);
  }
  document ??= {};
  if (!isMapping(document)) throw fail('', 'the top level must be a mapping (e.g. "sources:")');

  const warnings = Object.keys(document)
    .filter((key) => !(SECTIONS as readonly string[]).includes(key))
    .map((key) => `${file}: unknown top-level key '${key}' ignored`);

  const section = document.sources ?? {};
  if (!isMapping(section)) throw fail('sources', 'must be a mapping of source name → settings');
  const sources = Object.entries(section).map(([name, entry]): SourceDeclaration => {
    const where = `sources.${name}`;
    if (!SOURCE_NAME.test(name)) throw fail(where, 'a source name is 1–63 lower-case letters, digits, ., _ or -, starting with a letter or digit');
    if (!isMapping(entry)) throw fail(where, 'must be a mapping with at least a secret');
    const interpolated = interpolate(entry, env, (path, message) => fail(`${where}.${path}`, message)) as Record<string, unknown>;
    const declared = plainToInstance(SourceEntry, interpolated);
    const errors = validateSync(declared, { whitelist: true, forbidNonWhitelisted: true });
    if (errors.length > 0) throw fail(where, errors.map(describe).join('; '));
    const { secret, ...settings } = declared;
    if (settings.playbook && !PLAYBOOKS.has(settings.playbook)) {
      throw fail(`${where}.playbook`, `unknown_playbook '${settings.playbook}' (known: ${PLAYBOOK_NAMES.join(', ')})`);
    }
    return { name, secret, settings };
  });

  const playbooksSection = interpolate(document.playbooks, env, (path, message) => fail(`playbooks.${path}`, message));
  let playbooks: PlaybookSettings;
  try {
    playbooks = parsePlaybookSettings(playbooksSection, PLAYBOOK_NAMES);
  } catch (error) {
    throw fail('playbooks', (error as Error).message);
  }
  return { sources, playbooks, warnings };
}

function describe(error: ValidationError): string {
  const problems = Object.values(error.constraints ?? {});
  // Never echo a value: it may be (part of) a secret.
  return problems.length > 0 ? problems.join(', ') : `${error.property} is invalid`;
}

function interpolate(value: unknown, env: NodeJS.ProcessEnv, fail: (path: string, message: string) => Error, path = ''): unknown {
  if (typeof value === 'string') {
    return value.replace(VARIABLE, (_match, escaped: string | undefined, name: string) => {
      if (escaped) return `\${${name}}`;
      if (!VARIABLE_NAME.test(name)) throw fail(path, `'\${${name}}' is not a valid environment variable reference`);
      const found = env[name];
      if (found === undefined || found === '') throw fail(path, `environment variable ${name} is not set`);
      return found;
    });
  }
  if (Array.isArray(value)) return value.map((item, i) => interpolate(item, env, fail, `${path}[${i}]`));
  if (isMapping(value)) {
    return Object.fromEntries(
      Object.entries(value).map(([key, child]) => {
        const at = path ? `${path}.${key}` : key;
        // No setting is named like this, and class-transformer would drop such a key silently (or throw, for
        // `constructor`): a clear error instead, as the API's 400.
        if (Object.hasOwn(Object.prototype, key)) throw fail(at, `'${key}' is not accepted as a key: it is a name of Object.prototype`);
        return [key, interpolate(child, env, fail, at)];
      }),
    );
  }
  return value;
}
