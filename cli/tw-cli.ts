#!/usr/bin/env node
import { readFileSync } from 'node:fs';
import { Command, InvalidArgumentError, Option } from 'commander';
import { ApiClient, CliError } from './api-client';

/**
 * tw-cli: Towline from the command line. Reads TW_URL (default http://localhost:8080) and TW_API_KEY;
 * --url and --api-key override them. --json prints the server's JSON instead of text.
 */

interface Source {
  source: string;
  organisation_id: string;
  webhook_path: string;
  auto_triage: boolean;
  playbook: string | null;
  format: string;
  mode: string;
  project_id: string | null;
  managed_by: string;
  severity_mapping: Record<string, string>;
  secrets: { id: string; created_at: string; expires_at: string | null }[];
  secret?: string;
}

/** GET /api/organisations/:orgId/triage-settings */
interface TriageSettings {
  organisation_id: string;
  origin: 'api' | 'instance';
  protected_domains: string[];
  unprotected_domains: string[];
  allow: Record<string, string[]>;
  block: Record<string, string[]>;
  asset_criticality: { pattern: string; criticality: string }[];
  routing: { assignee: string }[];
  thresholds: Record<string, number>;
  learned_domains: string[];
  brand_list: { source: string; domains: string[] };
  effective_protected_domains: { domain: string; origin: string }[];
}

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

/** GET /api/webhooks/:source/rejected */
interface Rejected {
  received_at: string;
  request_id: string | null;
  code: string;
  message: string;
  content_type: string | null;
  size: number;
  body_excerpt: string;
  body_encoding: 'utf8' | 'base64';
  body_truncated: boolean;
}

function describeRejected(entry: Rejected): string {
  const body = `${entry.body_encoding === 'base64' ? '(base64) ' : ''}${entry.body_excerpt}${entry.body_truncated ? ' …' : ''}`;
  return [
    `${entry.received_at}  ${entry.code}  request ${entry.request_id ?? '-'}`,
    `  ${entry.message}`,
    `  ${entry.size} bytes of ${entry.content_type ?? 'no content type'}: ${body}`,
  ].join('\n');
}

interface GlobalOptions {
  url: string;
  apiKey?: string;
  json?: boolean;
}

const SEVERITIES = ['info', 'low', 'medium', 'high', 'critical'];

function parseBoolean(value: string): boolean {
  if (/^(true|yes|1|on)$/i.test(value)) return true;
  if (/^(false|no|0|off)$/i.test(value)) return false;
  throw new InvalidArgumentError('expected true or false');
}

/**
 * `critical=critical,4=high` → { critical: 'critical', '4': 'high' }. Built with fromEntries, so a vendor value
 * such as `__proto__` becomes a key of the mapping (which the API then refuses, saying why) instead of vanishing.
 */
function parseSeverityMapping(value: string): Record<string, string> {
  const pairs = value.split(',').filter(Boolean).map((pair) => {
    const [vendor, severity] = pair.split('=').map((s) => s.trim());
    if (!vendor || !severity || !SEVERITIES.includes(severity)) {
      throw new InvalidArgumentError(`expected vendor=severity pairs, severity one of ${SEVERITIES.join(', ')}`);
    }
    return [vendor, severity] as const;
  });
  return Object.fromEntries(pairs);
}

/** `90`, `90s`, `15m`, `24h`, `7d` → seconds */
function parseDuration(value: string): number {
  const match = /^(\d+)\s*([smhd]?)$/.exec(value.trim());
  if (!match) throw new InvalidArgumentError('expected a duration such as 3600, 90s, 15m, 24h or 7d');
  return Number(match[1]) * { '': 1, s: 1, m: 60, h: 3600, d: 86400 }[match[2] as '' | 's' | 'm' | 'h' | 'd'];
}

function parsePositive(value: string): number {
  const n = Number(value);
  if (!Number.isInteger(n) || n < 1) throw new InvalidArgumentError('expected a positive whole number');
  return n;
}

function describeSource(source: Source): string {
  const lines = [
    `${source.source}  (${source.managed_by === 'config' ? 'from the config file' : 'registered by API'})`,
    `  receives at   POST ${source.webhook_path}`,
    `  auto-triage   ${source.auto_triage ? `yes, playbook ${source.playbook ?? '(default)'}` : 'no'}`,
    `  format        ${source.format}    mode ${source.mode}`,
  ];
  if (source.project_id) lines.push(`  project       ${source.project_id}`);
  if (Object.keys(source.severity_mapping ?? {}).length) {
    lines.push(`  severities    ${Object.entries(source.severity_mapping).map(([k, v]) => `${k}→${v}`).join(', ')}`);
  }
  lines.push(`  secrets       ${source.secrets.map((s) => (s.expires_at ? `${s.id} (until ${s.expires_at})` : `${s.id} (current)`)).join(', ')}`);
  return lines.join('\n');
}

export function buildProgram(out: (line: string) => void = (line) => console.log(line)): Command {
  const program = new Command('tw-cli')
    .description('Towline, the open security webhook hub, from the command line')
    .version('0.1.0')
    .addOption(new Option('--url <url>', 'Towline base URL').env('TW_URL').default('http://localhost:8080'))
    .addOption(new Option('--api-key <key>', 'API key (tw_…)').env('TW_API_KEY'))
    .option('--json', 'print the JSON answers as they come')
    .showHelpAfterError();

  const client = () => {
    const options = program.opts<GlobalOptions>();
    return new ApiClient(options.url, options.apiKey);
  };
  const json = () => program.opts<GlobalOptions>().json === true;
  const print = (value: unknown, text: () => string) => out(json() ? JSON.stringify(value, null, 2) : text());
  const org = (organisation?: string) => ({ organisation_id: organisation });

  const webhook = program.command('webhook').description('inbound webhook sources: the tools that post alerts to Towline');

  webhook
    .command('add <source>')
    .description('register a source that posts signed alerts to POST /api/webhooks/<source>')
    .option('--secret <secret>', 'HMAC signing secret shared with the tool (generated and shown once when omitted)')
    .option('--auto-triage <bool>', 'run the playbook on its incidents', parseBoolean)
    .option('--playbook <name>', 'auto-triage playbook, e.g. phishing_triage')
    .option('--format <format>', 'payload format: auto (default), generic, defender_o365, crowdstrike, splunk, alertmanager, pagerduty, sentinel, elastic, chronicle, grafana, opsgenie, thehive')
    .option('--severity-mapping <pairs>', 'vendor=severity pairs, e.g. critical=critical,4=high', parseSeverityMapping)
    .option('--project <id>', 'project the alerts belong to')
    .addOption(new Option('--mode <mode>', 'sync answers with the incident; async queues').choices(['sync', 'async']))
    .option('--organisation <id>', 'organisation (instance admin key only; default: default)')
    .action(async (name: string, options) => {
      const source = await client().request<Source>('POST', '/api/webhooks', {
        source: name,
        secret: options.secret,
        auto_triage: options.autoTriage,
        playbook: options.playbook,
        format: options.format,
        severity_mapping: options.severityMapping,
        project_id: options.project,
        mode: options.mode,
        organisation_id: options.organisation,
      });
      print(source, () => {
        const lines = [`Registered ${describeSource(source)}`];
        if (source.secret) lines.push(`  secret        ${source.secret}   (shown only now: configure it in the sending tool)`);
        return lines.join('\n');
      });
    });

  webhook
    .command('list')
    .description('list the sources')
    .option('--organisation <id>', 'organisation (instance admin key only)')
    .action(async (options) => {
      const sources = await client().request<Source[]>('GET', '/api/webhooks', undefined, org(options.organisation));
      print(sources, () => (sources.length ? sources.map(describeSource).join('\n\n') : 'No sources registered.'));
    });

  webhook
    .command('show <source>')
    .description('show one source (never its secret)')
    .option('--organisation <id>', 'organisation (instance admin key only)')
    .action(async (name: string, options) => {
      const source = await client().request<Source>('GET', `/api/webhooks/${encodeURIComponent(name)}`, undefined, org(options.organisation));
      print(source, () => describeSource(source));
    });

  webhook
    .command('rejected <source>')
    .description("requests signed by the source but refused for their content (newest first; this instance's memory only)")
    .option('--organisation <id>', 'organisation (instance admin key only)')
    .action(async (name: string, options) => {
      const path = `/api/webhooks/${encodeURIComponent(name)}/rejected`;
      const entries = await client().request<Rejected[]>('GET', path, undefined, org(options.organisation));
      print(entries, () => (entries.length ? entries.map(describeRejected).join('\n\n') : `Nothing from ${name} was refused.`));
    });

  webhook
    .command('remove <source>')
    .description('remove a source: its URL then answers unknown_source')
    .option('--organisation <id>', 'organisation (instance admin key only)')
    .action(async (name: string, options) => {
      await client().request('DELETE', `/api/webhooks/${encodeURIComponent(name)}`, undefined, org(options.organisation));
      print({ removed: name }, () => `Removed source ${name}.`);
    });

  webhook
    .command('rotate-secret <source>')
    .description('start signing with a new secret; the previous ones keep verifying for the grace period')
    .option('--secret <secret>', 'the new secret (generated and shown once when omitted)')
    .option('--grace <duration>', 'how long previous secrets keep verifying, e.g. 24h, 15m, 0 (default 24h)', parseDuration)
    .option('--organisation <id>', 'organisation (instance admin key only)')
    .action(async (name: string, options) => {
      const rotated = await client().request<{ secret_id: string; previous_secrets_expire_at: string; secret?: string }>(
        'POST',
        `/api/webhooks/${encodeURIComponent(name)}/secrets`,
        { secret: options.secret, grace_period_seconds: options.grace },
        org(options.organisation),
      );
      print(rotated, () =>
        [
          `Rotated the secret of ${name}: new secret ${rotated.secret_id} is active; previous secrets verify until ${rotated.previous_secrets_expire_at}.`,
          ...(rotated.secret ? [`  secret  ${rotated.secret}   (shown only now)`] : []),
        ].join('\n'),
      );
    });

  webhook
    .command('test <source>')
    .description('send a correctly signed test event through the public endpoint and print the outcome')
    .option('--organisation <id>', 'organisation (instance admin key only)')
    .action(async (name: string, options) => {
      const api = client();
      const signed = await api.request<{ body: string; headers: Record<string, string> }>(
        'POST',
        `/api/webhooks/${encodeURIComponent(name)}/test-event`,
        undefined,
        org(options.organisation),
      );
      const answer = await api.postRaw(`/api/webhooks/${encodeURIComponent(name)}`, signed.body, signed.headers);
      const ok = answer.status >= 200 && answer.status < 300;
      print({ status: answer.status, body: answer.body }, () =>
        [`POST /api/webhooks/${name} → ${answer.status}`, JSON.stringify(answer.body, null, 2), ok ? 'Test event verified.' : 'Test event refused.'].join(
          '\n',
        ),
      );
      if (!ok) process.exitCode = 1;
    });

  const triage = program.command('triage').description("auto-triage: an organisation's triage settings");
  const settings = triage.command('settings').description('protected domains, allow and block lists, critical hosts, routing, thresholds');
  const settingsPath = (organisation?: string) => `/api/organisations/${encodeURIComponent(organisation ?? 'default')}/triage-settings`;

  settings
    .command('show')
    .description('show the settings, the learned domains and the protected domains in force')
    .option('--organisation <id>', 'organisation (default: default, or the API key\'s own)')
    .action(async (options) => {
      const found = await client().request<TriageSettings>('GET', settingsPath(options.organisation));
      print(found, () => describeTriageSettings(found));
    });

  settings
    .command('set <file>')
    .description('replace the settings with a JSON file (keys left out take their defaults); - reads standard input')
    .option('--organisation <id>', 'organisation (default: default, or the API key\'s own)')
    .action(async (file: string, options) => {
      const text = file === '-' ? readFileSync(0, 'utf8') : readFileSync(file, 'utf8');
      let body: unknown;
      try {
        body = JSON.parse(text);
      } catch (error) {
        throw new CliError(`${file} is not JSON: ${(error as Error).message}`);
      }
      const found = await client().request<TriageSettings>('PUT', settingsPath(options.organisation), body);
      print(found, () => `Replaced the triage settings.\n${describeTriageSettings(found)}`);
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
      .option('--organisation <id>', 'organisation (default: default, or the API key\'s own)')
      .action(async (list: string, value: string, options) => {
        const path = `${settingsPath(options.organisation)}/entries`;
        const found =
          method === 'POST'
            ? await client().request<TriageSettings>('POST', path, { list, value, criticality: options.criticality })
            : await client().request<TriageSettings>('DELETE', path, undefined, { list, value });
        print(found, () => `${verb === 'add' ? 'Added' : 'Removed'} ${value} ${verb === 'add' ? 'to' : 'from'} ${list}.`);
      });
  }

  program
    .command('logs')
    .description("print this instance's recent log records (instance admin key)")
    .option('--filter <text>', 'only records containing this text, e.g. webhook')
    .option('--tail <n>', 'how many of the most recent records', parsePositive, 100)
    .action(async (options) => {
      const records = await client().request<Record<string, unknown>[]>('GET', '/api/logs', undefined, {
        filter: options.filter,
        tail: options.tail,
      });
      if (json()) return out(JSON.stringify(records, null, 2));
      for (const record of records) out(formatRecord(record));
    });

  return program;
}

/** A Map: `level` is whatever the server's log line says, and must not find an inherited member. */
const LEVELS = new Map<unknown, string>([[10, 'TRACE'], [20, 'DEBUG'], [30, 'INFO'], [40, 'WARN'], [50, 'ERROR'], [60, 'FATAL']]);

function formatRecord(record: Record<string, unknown>): string {
  const { time, level, msg, service: _service, ...fields } = record;
  const rest = Object.entries(fields)
    .map(([key, value]) => `${key}=${typeof value === 'string' ? value : JSON.stringify(value)}`)
    .join(' ');
  return `${String(time)} ${(LEVELS.get(level) ?? String(level)).padEnd(5)} ${String(msg ?? '')}${rest ? `  ${rest}` : ''}`;
}

if (require.main === module) {
  buildProgram()
    .parseAsync(process.argv)
    .catch((error: unknown) => {
      if (error instanceof CliError) {
        console.error(`error: ${error.code ? `${error.code}: ` : ''}${error.message}`);
      } else {
        console.error(error);
      }
      process.exitCode = 1;
    });
}
