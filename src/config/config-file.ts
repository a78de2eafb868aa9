import { Inject, Injectable } from '@nestjs/common';
import { readFileSync } from 'node:fs';
import { parse } from 'yaml';
import { APP_CONFIG, ConfigError, type AppConfig } from './config';

/**
 * The configuration file (TW_CONFIG, the seed's webhook_config.yaml), read and parsed once for the whole
 * application. It has one top-level section per capability, each validated by its owner:
 *
 *   sources:     inbound's sources        (src/inbound/config/sources-config.ts, docs/inbound.md)
 *   playbooks:   triage's playbook settings (src/triage/playbook-configuration.ts, docs/triage.md)
 *
 * A section this build does not know is skipped with a warning, so a newer file still starts an older Towline;
 * a key an owner does not know inside its section is an error, because a misspelt `auto_triage` must not
 * silently mean false.
 *
 * `${NAME}` in any string value is replaced by the environment variable NAME after the YAML is parsed (so a
 * secret holding quotes, `#` or `: ` cannot change the file's structure, and values stay text: booleans are
 * written in the file); `$${` stands for a literal `${`. A variable that is unset or empty stops the boot,
 * naming it.
 */
export const CONFIG_SECTIONS = ['sources', 'playbooks'] as const;
export type ConfigSectionName = (typeof CONFIG_SECTIONS)[number];

const VARIABLE = /\$(\$)?\{([^}]*)\}/g;
const VARIABLE_NAME = /^[A-Za-z_][A-Za-z0-9_]*$/;

export const isMapping = (value: unknown): value is Record<string, unknown> =>
  typeof value === 'object' && value !== null && !Array.isArray(value);

/** The parsed file: its sections as written, and the tools its owners validate them with. */
export class ConfigDocument {
  constructor(
    readonly file: string,
    private readonly sections: Readonly<Record<string, unknown>>,
    readonly warnings: readonly string[],
    private readonly env: NodeJS.ProcessEnv,
  ) {}

  /** A section as written (before `${…}` substitution), undefined when the file does not have it. */
  section(name: ConfigSectionName): unknown {
    return Object.hasOwn(this.sections, name) ? this.sections[name] : undefined;
  }

  /** A boot-stopping error that names the file and the place in it. */
  fail(where: string, message: string): ConfigError {
    return new ConfigError(`${this.file}: ${where ? `${where}: ` : ''}${message}`);
  }

  /** `value` (found at `where`) with every `${NAME}` replaced; keys named like Object.prototype members refused. */
  interpolate(value: unknown, where: string): unknown {
    if (typeof value === 'string') {
      return value.replace(VARIABLE, (_match, escaped: string | undefined, name: string) => {
        if (escaped) return `\${${name}}`;
        if (!VARIABLE_NAME.test(name)) throw this.fail(where, `'\${${name}}' is not a valid environment variable reference`);
        const found = this.env[name];
        if (found === undefined || found === '') throw this.fail(where, `environment variable ${name} is not set`);
        return found;
      });
    }
    if (Array.isArray(value)) return value.map((item, i) => this.interpolate(item, `${where}[${i}]`));
    if (isMapping(value)) {
      return Object.fromEntries(
        Object.entries(value).map(([key, child]) => {
          const at = where ? `${where}.${key}` : key;
          // No setting is named like this, and class-transformer would drop such a key silently (or throw, for
          // `constructor`): a clear error instead, as the API's 400.
          if (Object.hasOwn(Object.prototype, key)) throw this.fail(at, `'${key}' is not accepted as a key: it is a name of Object.prototype`);
          return [key, this.interpolate(child, at)];
        }),
      );
    }
    return value;
  }
}

export function parseConfigDocument(text: string, env: NodeJS.ProcessEnv, file = 'webhook_config.yaml'): ConfigDocument {
  const fail = (message: string) => new ConfigError(`${file}: ${message}`);
  let document: unknown;
  try {
    document = parse(text, { uniqueKeys: true });
  } catch (error) {
    throw fail(`not valid YAML: ${(error as Error).message}`);
  }
  document ??= {};
  if (!isMapping(document)) throw fail('the top level must be a mapping (e.g. "sources:")');
  const warnings = Object.keys(document)
    .filter((key) => !(CONFIG_SECTIONS as readonly string[]).includes(key))
    .map((key) => `${file}: unknown top-level key '${key}' ignored`);
  return new ConfigDocument(file, document, warnings, env);
}

export function readConfigDocument(path: string, env: NodeJS.ProcessEnv): ConfigDocument {
  let text: string;
  try {
    text = readFileSync(path, 'utf8');
  } catch (error) {
    throw new ConfigError(`TW_CONFIG: cannot read ${path}: ${(error as Error).message}`);
  }
  return parseConfigDocument(text, env, path);
}

/**
 * The file as a provider: read on first use (while the application initialises — not in a provider factory,
 * where Nest aborts the process when one throws), then shared, so every owner sees the same text.
 */
@Injectable()
export class ConfigFile {
  private loaded?: ConfigDocument | null;

  constructor(@Inject(APP_CONFIG) private readonly config: AppConfig) {}

  /** null without TW_CONFIG. Throws ConfigError for a file that cannot be read or parsed. */
  document(): ConfigDocument | null {
    if (this.loaded === undefined) this.loaded = this.config.configFile ? readConfigDocument(this.config.configFile, process.env) : null;
    return this.loaded;
  }
}
