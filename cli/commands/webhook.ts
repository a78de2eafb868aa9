import { Command, InvalidArgumentError, Option } from 'commander';
import type { CliContext } from '../context';
import { CliError, EXIT } from '../exit-codes';
import { fields, table } from '../output';
import { parseBoolean, parseDuration, parseSeverityMapping } from '../parsers';
import type { Schema } from '../api';

/** GET /api/webhooks/:source */
export type Source = Schema<'SourceDto'>;

/** GET /api/webhooks/:source/rejected */
type Rejected = Schema<'RejectedWebhookDto'>;

const FORMATS = 'auto (default), generic, defender_o365, crowdstrike, splunk, alertmanager, pagerduty, sentinel, elastic, chronicle, grafana, opsgenie, thehive';

export function describeSource(source: Source): string {
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
  if (source.rate_limit !== null && source.rate_limit !== undefined) lines.push(`  rate limit    ${source.rate_limit === 0 ? 'none' : `${source.rate_limit} per window`}`);
  if (source.dedup_field) lines.push(`  dedup field   ${source.dedup_field}`);
  lines.push(`  secrets       ${source.secrets.map((s) => (s.expires_at ? `${s.id} (until ${s.expires_at})` : `${s.id} (current)`)).join(', ')}`);
  return lines.join('\n');
}

function describeRejected(entry: Rejected): string {
  const body = `${entry.body_encoding === 'base64' ? '(base64) ' : ''}${entry.body_excerpt}${entry.body_truncated ? ' …' : ''}`;
  return [
    `${entry.received_at}  ${entry.code}  request ${entry.request_id ?? '-'}`,
    `  ${entry.message}`,
    `  ${entry.size} bytes of ${entry.content_type ?? 'no content type'}: ${body}`,
  ].join('\n');
}

/** `--rate-limit 120`, `0` (no limit) or `default` (the instance's TW_WEBHOOK_RATE_LIMIT, sent as null). */
function parseRateLimit(value: string): number | null {
  if (value === 'default') return null;
  const n = Number(value);
  if (!Number.isInteger(n) || n < 0) throw new InvalidArgumentError('expected a whole number of requests (0: no limit) or default');
  return n;
}

/** The settings both `add` and `update` take; `update` also takes the --no-… forms, which clear a setting. */
function settingsOptions(command: Command, update: boolean): Command {
  command
    .option('--auto-triage <bool>', 'run the playbook on its incidents (true or false)', parseBoolean)
    .option('--playbook <name>', 'auto-triage playbook, e.g. phishing_triage')
    .option('--format <format>', `payload format: ${FORMATS}`)
    .option('--severity-mapping <pairs>', 'vendor=severity pairs, e.g. critical=critical,4=high', parseSeverityMapping)
    .option('--project <id>', 'project the alerts belong to')
    .addOption(new Option('--mode <mode>', 'sync answers with the incident; async queues').choices(['sync', 'async']))
    .option('--rate-limit <n>', 'requests per rate-limit window (0: no limit; default: the instance default)', parseRateLimit)
    .option('--dedup-field <field>', "Splunk: the result field in the dedup key instead of the host");
  if (update) {
    command
      .option('--no-playbook', 'clear the playbook (the default playbook then applies)')
      .option('--no-severity-mapping', 'clear the severity mapping')
      .option('--no-project', 'clear the project')
      .option('--no-dedup-field', 'clear the dedup field (the host again)');
  }
  return command.option('--organisation <id>', 'organisation (instance admin key only; default: default)');
}

interface SettingsFlags {
  autoTriage?: boolean;
  playbook?: string | false;
  format?: string;
  severityMapping?: Record<string, string> | false;
  project?: string | false;
  mode?: string;
  rateLimit?: number | null;
  dedupField?: string | false;
}

/** The JSON fields for the flags given: absent stays absent (unchanged), a --no-… flag becomes null. */
function settingsBody(options: SettingsFlags): Record<string, unknown> {
  const clear = <T>(value: T | false | undefined) => (value === false ? null : value);
  const body: Record<string, unknown> = {
    auto_triage: options.autoTriage,
    playbook: clear(options.playbook),
    format: options.format,
    severity_mapping: clear(options.severityMapping),
    project_id: clear(options.project),
    mode: options.mode,
    rate_limit: options.rateLimit,
    dedup_field: clear(options.dedupField),
  };
  return Object.fromEntries(Object.entries(body).filter(([, value]) => value !== undefined));
}

/** `tw-cli webhook …`: the inbound sources (the seed's verbs, spelled as the seed spells them). */
export function registerWebhook(program: Command, cli: CliContext): void {
  const webhook = program.command('webhook').description('inbound webhook sources: the tools that post alerts to Towline');
  const org = (organisation?: string) => ({ organisation_id: organisation });
  const path = (name: string, rest = '') => `/api/webhooks/${encodeURIComponent(name)}${rest}`;

  settingsOptions(
    webhook
      .command('add <source>')
      .description('register a source that posts signed alerts to POST /api/webhooks/<source>')
      .option('--secret <secret>', 'HMAC signing secret shared with the tool (generated and shown once when omitted)'),
    false,
  ).action(async (name: string, options: SettingsFlags & { secret?: string; organisation?: string }) => {
    const source = await cli.api().request<Schema<'RegisteredSourceDto'>>('POST', '/api/webhooks', {
      source: name,
      secret: options.secret,
      ...settingsBody(options),
      organisation_id: options.organisation,
    });
    cli.print(source, () => {
      const lines = [`Registered ${describeSource(source)}`];
      if (source.secret) lines.push(`  secret        ${source.secret}   (shown only now: configure it in the sending tool)`);
      return lines.join('\n');
    });
  });

  webhook
    .command('list')
    .description('list the sources')
    .option('--organisation <id>', 'organisation (instance admin key only)')
    .action(async (options: { organisation?: string }) => {
      const sources = await cli.api().request<Source[]>('GET', '/api/webhooks', undefined, org(options.organisation));
      cli.print(sources, () =>
        sources.length
          ? table(sources, [
              { header: 'SOURCE', value: (s) => s.source },
              { header: 'FORMAT', value: (s) => s.format },
              { header: 'MODE', value: (s) => s.mode },
              { header: 'AUTO-TRIAGE', value: (s) => (s.auto_triage ? (s.playbook ?? 'default') : 'no') },
              { header: 'PROJECT', value: (s) => s.project_id },
              { header: 'MANAGED BY', value: (s) => s.managed_by },
              { header: 'SECRETS', value: (s) => s.secrets.length },
              { header: 'RECEIVES AT', value: (s) => `POST ${s.webhook_path}` },
            ])
          : 'No sources registered.',
      );
    });

  webhook
    .command('show <source>')
    .description('show one source (never its secret)')
    .option('--organisation <id>', 'organisation (instance admin key only)')
    .action(async (name: string, options: { organisation?: string }) => {
      const source = await cli.api().request<Source>('GET', path(name), undefined, org(options.organisation));
      cli.print(source, () => describeSource(source));
    });

  settingsOptions(
    webhook
      .command('update <source>')
      .description('change settings of a source (only the options given); its secret stays as it is (rotate-secret changes it)'),
    true,
  ).action(async (name: string, options: SettingsFlags & { organisation?: string }) => {
    const body = settingsBody(options);
    if (Object.keys(body).length === 0) {
      throw new CliError('Nothing to change', EXIT.usage, { hint: 'Give at least one setting, e.g. --playbook phishing_triage or --auto-triage false (tw-cli webhook update --help).' });
    }
    const source = await cli.api().request<Source>('PATCH', path(name), body, org(options.organisation));
    cli.print(source, () => `Updated ${describeSource(source)}`);
  });

  webhook
    .command('rejected <source>')
    .description("requests signed by the source but refused for their content (newest first; this instance's memory only)")
    .option('--organisation <id>', 'organisation (instance admin key only)')
    .action(async (name: string, options: { organisation?: string }) => {
      const entries = await cli.api().request<Rejected[]>('GET', path(name, '/rejected'), undefined, org(options.organisation));
      cli.print(entries, () => (entries.length ? entries.map(describeRejected).join('\n\n') : `Nothing from ${name} was refused.`));
    });

  webhook
    .command('remove <source>')
    .description('remove a source: its URL then answers unknown_source')
    .option('--organisation <id>', 'organisation (instance admin key only)')
    .action(async (name: string, options: { organisation?: string }) => {
      await cli.api().request('DELETE', path(name), undefined, org(options.organisation));
      cli.print({ removed: name }, () => `Removed source ${name}.`);
    });

  webhook
    .command('rotate-secret <source>')
    .description('start signing with a new secret; the previous ones keep verifying for the grace period')
    .option('--secret <secret>', 'the new secret (generated and shown once when omitted)')
    .option('--grace <duration>', 'how long previous secrets keep verifying, e.g. 24h, 15m, 0 (default 24h)', parseDuration)
    .option('--organisation <id>', 'organisation (instance admin key only)')
    .action(async (name: string, options: { secret?: string; grace?: number; organisation?: string }) => {
      const rotated = await cli
        .api()
        .request<{ secret_id: string; previous_secrets_expire_at: string; secret?: string }>(
          'POST',
          path(name, '/secrets'),
          { secret: options.secret, grace_period_seconds: options.grace },
          org(options.organisation),
        );
      cli.print(rotated, () =>
        [
          `Rotated the secret of ${name}: new secret ${rotated.secret_id} is active; previous secrets verify until ${rotated.previous_secrets_expire_at}.`,
          ...(rotated.secret ? [`  secret  ${rotated.secret}   (shown only now)`] : []),
        ].join('\n'),
      );
    });

  webhook
    .command('test <source>')
    .description('send a correctly signed test event through the public endpoint and print the outcome (exit 1 when refused)')
    .option('--organisation <id>', 'organisation (instance admin key only)')
    .action(async (name: string, options: { organisation?: string }) => {
      const api = cli.api();
      const signed = await api.request<{ body: string; headers: Record<string, string> }>('POST', path(name, '/test-event'), undefined, org(options.organisation));
      const answer = await api.postRaw(path(name), signed.body, signed.headers);
      const ok = answer.status >= 200 && answer.status < 300;
      cli.print({ status: answer.status, body: answer.body }, () =>
        [`POST /api/webhooks/${name} → ${answer.status}`, JSON.stringify(answer.body, null, 2), ok ? 'Test event verified.' : 'Test event refused.'].join('\n'),
      );
      if (!ok) process.exitCode = EXIT.other;
    });

  webhook
    .command('queue <queue-id>')
    .description('what became of a queued alert (async sources, or under load): still queued, or processed with its answer')
    .action(async (queueId: string) => {
      const entry = await cli
        .api()
        .request<{ queue_id: string; source: string; status: string; received_at: string; processed_at: string | null; result: unknown }>(
          'GET',
          `/api/webhooks/queue/${encodeURIComponent(queueId)}`,
        );
      cli.print(entry, () =>
        [
          fields([
            ['queue id', entry.queue_id],
            ['source', entry.source],
            ['status', entry.status],
            ['received', entry.received_at],
            ['processed', entry.processed_at],
          ]),
          ...(entry.result === null || entry.result === undefined ? [] : [`result    ${JSON.stringify(entry.result)}`]),
        ].join('\n'),
      );
    });

}
