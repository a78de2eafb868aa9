import { readFileSync } from 'node:fs';
import type { Command } from 'commander';
import type { CliContext } from '../context';
import { CliError, EXIT } from '../exit-codes';
import type { Schema } from '../api';

/** GET /api/organisations/:orgId/triage-settings */
type TriageSettings = Schema<'TriageSettingsDto'>;

function describeTriageSettings(s: TriageSettings): string {
  const list = (values: string[]) => (values.length ? values.join(', ') : '—');
  const lists = (side: Record<string, string[]>) =>
    Object.entries(side)
      .filter(([, values]) => values.length > 0)
      .map(([kind, values]) => `${kind}: ${values.join(', ')}`)
      .join('; ') || '—';
  return [
    `organisation      ${s.organisation_id} (${s.origin === 'api' ? 'its own settings' : 'instance settings, not edited yet'})`,
    `protected         ${list(s.effective_protected_domains.map((p) => `${p.domain}${p.origin === 'configured' ? '' : ` (${p.origin})`}`))}`,
    `unprotected       ${list(s.unprotected_domains)}`,
    `learned           ${list(s.learned_domains)}`,
    `brand list        ${s.brand_list.source}`,
    `allow             ${lists(s.allow)}`,
    `block             ${lists(s.block)}`,
    `critical hosts    ${list(s.asset_criticality.map((c) => `${c.pattern}=${c.criticality}`))}`,
    `routing           ${s.routing.length} rule(s)`,
    `thresholds        ${Object.entries(s.thresholds).map(([k, v]) => `${k}=${v}`).join(' ')}`,
  ].join('\n');
}

/** `tw-cli triage settings …`: an organisation's auto-triage settings. */
export function registerTriage(program: Command, cli: CliContext): void {
  const triage = program.command('triage').description("auto-triage: an organisation's triage settings");
  const settings = triage.command('settings').description('protected domains, allow and block lists, critical hosts, routing, thresholds');
  const settingsPath = async (organisation?: string) => `/api/organisations/${await cli.organisation(organisation)}/triage-settings`;
  const ORGANISATION = "organisation (default: the API key's own, or default)";

  settings
    .command('show')
    .description('show the settings, the learned domains and the protected domains in force')
    .option('--organisation <id>', ORGANISATION)
    .action(async (options: { organisation?: string }) => {
      const found = await cli.api().request<TriageSettings>('GET', await settingsPath(options.organisation));
      cli.print(found, () => describeTriageSettings(found));
    });

  settings
    .command('set <file>')
    .description('replace the settings with a JSON file (keys left out take their defaults); - reads standard input')
    .option('--organisation <id>', ORGANISATION)
    .action(async (file: string, options: { organisation?: string }) => {
      let text: string;
      try {
        text = file === '-' ? readFileSync(0, 'utf8') : readFileSync(file, 'utf8');
      } catch (error) {
        throw new CliError(`Cannot read ${file}: ${(error as Error).message}`, EXIT.usage);
      }
      let body: unknown;
      try {
        body = JSON.parse(text);
      } catch (error) {
        throw new CliError(`${file} is not JSON: ${(error as Error).message}`, EXIT.usage);
      }
      const found = await cli.api().request<TriageSettings>('PUT', await settingsPath(options.organisation), body);
      cli.print(found, () => `Replaced the triage settings.\n${describeTriageSettings(found)}`);
    });

  for (const [verb, method, description] of [
    ['add', 'POST', 'add one entry'],
    ['remove', 'DELETE', 'remove one entry'],
  ] as const) {
    settings
      .command(`${verb} <list> <value>`)
      .description(
        `${description}: list is protected_domains, unprotected_domains, allow.<kind> or block.<kind> (kind: domains, urls, ips, hashes, emails), or asset_criticality (a host pattern)`,
      )
      .option('--criticality <level>', 'asset_criticality: critical (default), high, medium or low')
      .option('--organisation <id>', ORGANISATION)
      .action(async (list: string, value: string, options: { criticality?: string; organisation?: string }) => {
        const path = `${await settingsPath(options.organisation)}/entries`;
        const found =
          method === 'POST'
            ? await cli.api().request<TriageSettings>('POST', path, { list, value, criticality: options.criticality })
            : await cli.api().request<TriageSettings>('DELETE', path, undefined, { list, value });
        cli.print(found, () => `${verb === 'add' ? 'Added' : 'Removed'} ${value} ${verb === 'add' ? 'to' : 'from'} ${list}.`);
      });
  }
}
