import { plainToInstance } from 'class-transformer';
import { IsString, Length, validateSync, type ValidationError } from 'class-validator';
import { isMapping, type ConfigDocument } from '../../config/config-file';
import { isPlaybookName, PLAYBOOK_NAMES } from '../../contracts/playbooks';
import { SourceSettingsDto } from '../http/sources.dto';
import { SOURCE_NAME } from '../source.aggregate';
import { SECRET_MAX_LENGTH, SECRET_MIN_LENGTH, type SettingsInput } from '../source-settings';

/**
 * The `sources:` section of the configuration file (TW_CONFIG, the seed's webhook_config.yaml; read by
 * src/config/config-file.ts, which owns the file and its `${ENV}` substitution):
 *
 *   sources:
 *     email-gateway:
 *       secret: "${EMAIL_GATEWAY_SECRET}"
 *       auto_triage: true
 *       playbook: phishing_triage
 *       severity_mapping: { critical: critical, high: high }
 *
 * A key this build does not know inside an entry is an error (a misspelt `auto_triage` must not silently mean
 * false). A source naming a playbook this build does not have stops the boot (unknown_playbook), as the API
 * refuses it.
 */

export interface SourceDeclaration {
  name: string;
  secret: string;
  settings: SettingsInput;
}

/** A source's entry: the API's settings fields (same rules) plus its secret, which the file must give. */
class SourceEntry extends SourceSettingsDto {
  @IsString() @Length(SECRET_MIN_LENGTH, SECRET_MAX_LENGTH)
  secret: string;
}

/** The sources the file declares, in its order; none without a `sources:` section. */
export function parseSourcesSection(document: ConfigDocument): SourceDeclaration[] {
  const section = document.section('sources') ?? {};
  if (!isMapping(section)) throw document.fail('sources', 'must be a mapping of source name → settings');
  return Object.entries(section).map(([name, entry]): SourceDeclaration => {
    const where = `sources.${name}`;
    if (!SOURCE_NAME.test(name)) throw document.fail(where, 'a source name is 1–63 lower-case letters, digits, ., _ or -, starting with a letter or digit, and not `queue` (reserved)');
    if (!isMapping(entry)) throw document.fail(where, 'must be a mapping with at least a secret');
    const declared = plainToInstance(SourceEntry, document.interpolate(entry, where) as Record<string, unknown>);
    const errors = validateSync(declared, { whitelist: true, forbidNonWhitelisted: true });
    if (errors.length > 0) throw document.fail(where, errors.map(describe).join('; '));
    const { secret, ...settings } = declared;
    if (settings.playbook && !isPlaybookName(settings.playbook)) {
      throw document.fail(`${where}.playbook`, `unknown_playbook '${settings.playbook}' (known: ${PLAYBOOK_NAMES.join(', ')})`);
    }
    return { name, secret, settings };
  });
}

function describe(error: ValidationError): string {
  const problems = Object.values(error.constraints ?? {});
  // Never echo a value: it may be (part of) a secret.
  return problems.length > 0 ? problems.join(', ') : `${error.property} is invalid`;
}
