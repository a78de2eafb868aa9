import { Option, type Command } from 'commander';
import type { CliContext } from '../context';
import { CliError, EXIT } from '../exit-codes';
import { fields, list, table } from '../output';
import { collectHeader, parseBoolean, parseDuration, parseInstant, parseList, parsePositive } from '../parsers';
import type { Schema } from '../api';

/** GET /api/organisations/:orgId/webhooks/:id */
type Webhook = Schema<'WebhookDto'>;

type Attempt = Schema<'AttemptDto'>;

type Delivery = Schema<'DeliveryDto'>;

const FORMATS = ['envelope', 'splunk_hec', 'slack', 'teams'];
const DELIVERY_STATUSES = ['pending', 'retrying', 'succeeded', 'failed', 'cancelled'];

const rate = (r: number | null) => (r === null ? null : `${Math.round(r * 100)}%`);

function describeWebhook(w: Webhook): string {
  return fields([
    ['webhook', w.id],
    ['url', w.url],
    ['format', w.format],
    ['enabled', w.enabled ? 'yes' : `no${w.disabled_reason ? ` (${w.disabled_reason})` : ''}`],
    ['event types', list(w.event_types, 'all')],
    ['projects', list(w.project_ids, 'all')],
    ['headers', list(Object.keys(w.headers))],
    ['description', w.description],
    ['secrets', w.secrets.map((s) => (s.expires_at ? `${s.id} (until ${s.expires_at})` : `${s.id} (current)`)).join(', ')],
    ['success rate', rate(w.health.success_rate)],
    ['last success', w.health.last_success_at],
    ['failures in a row', w.health.consecutive_failures],
    ['circuit', `${w.health.circuit.state}${w.health.circuit.open_until ? ` until ${w.health.circuit.open_until}` : ''}`],
  ]);
}

function describeAttempt(a: Attempt): string {
  const outcome = a.succeeded ? 'succeeded' : `failed${a.error_class ? ` (${a.error_class})` : ''}`;
  return `attempt ${a.attempt}  ${a.started_at}  ${outcome}  HTTP ${a.response.status ?? '-'}  ${a.duration_ms} ms${a.error ? `  ${a.error}` : ''}`;
}

interface WebhookFlags {
  eventTypes?: string[] | false;
  projects?: string[] | false;
  format?: string;
  header?: Record<string, string>;
  description?: string | false;
  enabled?: boolean;
}

function webhookBody(options: WebhookFlags): Record<string, unknown> {
  const clear = <T>(value: T | false | undefined) => (value === false ? null : value);
  const body: Record<string, unknown> = {
    event_types: clear(options.eventTypes),
    project_ids: clear(options.projects),
    format: options.format,
    headers: options.header,
    description: clear(options.description),
    enabled: options.enabled,
  };
  return Object.fromEntries(Object.entries(body).filter(([, value]) => value !== undefined));
}

function webhookOptions(command: Command): Command {
  return command
    .option('--event-types <types>', 'only these event types, comma-separated (tw-cli event-types lists them; default all)', parseList)
    .option('--projects <ids>', 'only events of these projects, comma-separated (default all)', parseList)
    .addOption(new Option('--format <format>', 'payload format').choices(FORMATS))
    .option('--header <header>', "an extra request header, 'Name: value' (repeatable; values are stored sealed)", collectHeader)
    .option('--description <text>', 'what it is for');
}

/** `tw-cli outbound …`: the organisation's outgoing webhooks (where its security events go) and their deliveries. */
export function registerOutbound(program: Command, cli: CliContext): void {
  const outbound = program.command('outbound').description("outbound webhooks: where the organisation's security events are delivered, signed");
  const ORGANISATION = "organisation (default: the API key's own, or default)";
  const base = async (organisation?: string) => `/api/organisations/${await cli.organisation(organisation)}`;
  const hook = async (organisation: string | undefined, id: string, rest = '') => `${await base(organisation)}/webhooks/${encodeURIComponent(id)}${rest}`;

  webhookOptions(outbound.command('add <url>').description('create a webhook (at most 10 per organisation); its signing secret is shown once'))
    .option('--secret <secret>', 'whsec_… signing secret (generated and shown once when omitted)')
    .option('--disabled', 'create it disabled')
    .option('--organisation <id>', ORGANISATION)
    .action(async (url: string, options: WebhookFlags & { secret?: string; disabled?: boolean; organisation?: string }) => {
      const created = await cli.api().request<Schema<'CreatedWebhookDto'>>('POST', `${await base(options.organisation)}/webhooks`, {
        url,
        secret: options.secret,
        ...webhookBody(options),
        enabled: options.disabled ? false : undefined,
      });
      cli.print(created, () =>
        [
          `Created webhook ${created.id}`,
          describeWebhook(created),
          ...(created.secret ? [`secret  ${created.secret}   (shown only now: the receiver verifies signatures with it)`] : []),
        ].join('\n'),
      );
    });

  outbound
    .command('list')
    .description('list the webhooks, with their health')
    .option('--organisation <id>', ORGANISATION)
    .action(async (options: { organisation?: string }) => {
      const webhooks = await cli.api().request<Webhook[]>('GET', `${await base(options.organisation)}/webhooks`);
      cli.print(webhooks, () =>
        webhooks.length
          ? table(webhooks, [
              { header: 'ID', value: (w) => w.id },
              { header: 'FORMAT', value: (w) => w.format },
              { header: 'ENABLED', value: (w) => w.enabled },
              { header: 'EVENTS', value: (w) => list(w.event_types, 'all') },
              { header: 'SUCCESS', value: (w) => rate(w.health.success_rate) },
              { header: 'CIRCUIT', value: (w) => w.health.circuit.state },
              { header: 'URL', value: (w) => w.url },
            ])
          : 'No outbound webhooks.',
      );
    });

  outbound
    .command('show <id>')
    .description('show a webhook: settings, secret ids and health (never the secret, the full URL or header values)')
    .option('--organisation <id>', ORGANISATION)
    .action(async (id: string, options: { organisation?: string }) => {
      const found = await cli.api().request<Webhook>('GET', await hook(options.organisation, id));
      cli.print(found, () => describeWebhook(found));
    });

  webhookOptions(outbound.command('update <id>').description('change a webhook (only the options given); its secret stays as it is'))
    // Not --url: that is the global option (the server's URL), which commander gives precedence anywhere on the line.
    .option('--webhook-url <url>', 'the new URL the events are delivered to')
    .option('--enabled <bool>', 'enable or disable it (true also re-enables one disabled after a 410 Gone)', parseBoolean)
    .option('--no-event-types', 'every event type again')
    .option('--no-projects', 'events of every project again')
    .option('--no-headers', 'remove the extra headers')
    .option('--no-description', 'clear the description')
    .option('--organisation <id>', ORGANISATION)
    .action(async (id: string, options: WebhookFlags & { webhookUrl?: string; headers?: boolean; organisation?: string }) => {
      if (options.header && options.headers === false) throw new CliError('Give --header or --no-headers, not both', EXIT.usage);
      const body = { ...webhookBody(options), ...(options.headers === false ? { headers: {} } : {}), ...(options.webhookUrl ? { url: options.webhookUrl } : {}) };
      if (Object.keys(body).length === 0) {
        throw new CliError('Nothing to change', EXIT.usage, { hint: 'Give at least one option, e.g. --enabled false or --event-types finding.created (tw-cli outbound update --help).' });
      }
      const updated = await cli.api().request<Webhook>('PATCH', await hook(options.organisation, id), body);
      cli.print(updated, () => `Updated webhook ${updated.id}\n${describeWebhook(updated)}`);
    });

  outbound
    .command('remove <id>')
    .description('delete a webhook; its pending deliveries are cancelled, its delivery history stays')
    .option('--organisation <id>', ORGANISATION)
    .action(async (id: string, options: { organisation?: string }) => {
      await cli.api().request('DELETE', await hook(options.organisation, id));
      cli.print({ removed: id }, () => `Removed webhook ${id}.`);
    });

  outbound
    .command('rotate-secret <id>')
    .description('sign with a new secret; the previous ones keep signing beside it for the grace period')
    .option('--secret <secret>', 'the new whsec_… secret (generated and shown once when omitted)')
    .option('--grace <duration>', 'how long the previous secrets keep signing, e.g. 24h, 15m, 0 (default: the server\'s TW_WEBHOOK_SECRET_GRACE)', parseDuration)
    .option('--organisation <id>', ORGANISATION)
    .action(async (id: string, options: { secret?: string; grace?: number; organisation?: string }) => {
      const rotated = await cli
        .api()
        .request<{ secret_id: string; previous_secrets_expire_at: string; secret?: string }>('POST', await hook(options.organisation, id, '/rotate-secret'), {
          secret: options.secret,
          grace_period_seconds: options.grace,
        });
      cli.print(rotated, () =>
        [
          `Rotated the secret of webhook ${id}: ${rotated.secret_id} signs now; the previous ones sign beside it until ${rotated.previous_secrets_expire_at}.`,
          ...(rotated.secret ? [`  secret  ${rotated.secret}   (shown only now)`] : []),
        ].join('\n'),
      );
    });

  outbound
    .command('test <id>')
    .description("send a signed test event now and print the receiver's answer (exit 1 when it failed)")
    .option('--event-type <type>', 'the example event of this type (default finding.created)')
    .option('--organisation <id>', ORGANISATION)
    .action(async (id: string, options: { eventType?: string; organisation?: string }) => {
      const test = await cli
        .api()
        .request<{ test_id: string; event_type: string; result: Attempt }>('POST', await hook(options.organisation, id, '/test'), { event_type: options.eventType });
      cli.print(test, () =>
        [`Test ${test.test_id} (${test.event_type})`, describeAttempt(test.result), ...(test.result.response.body ? [`  ${test.result.response.body.slice(0, 500)}`] : [])].join('\n'),
      );
      if (!test.result.succeeded) process.exitCode = EXIT.other;
    });

  outbound
    .command('deliveries <id>')
    .description("the webhook's deliveries, newest first (one page: --cursor with the printed next cursor gives the next)")
    .addOption(new Option('--status <status>', 'only this status (failed: the dead letters)').choices(DELIVERY_STATUSES))
    .option('--limit <n>', 'at most this many (1–500, default 100)', parsePositive)
    .option('--cursor <cursor>', "the previous page's next cursor")
    .option('--organisation <id>', ORGANISATION)
    .action(async (id: string, options: { status?: string; limit?: number; cursor?: string; organisation?: string }) => {
      const page = await cli
        .api()
        .request<{ items: Delivery[]; next_cursor: string | null }>('GET', await hook(options.organisation, id, '/deliveries'), undefined, {
          status: options.status,
          limit: options.limit,
          cursor: options.cursor,
        });
      cli.print(page, () => {
        if (page.items.length === 0) return 'No deliveries.';
        const lines = [
          table(page.items, [
            { header: 'DELIVERY', value: (d) => d.id },
            { header: 'EVENT TYPE', value: (d) => d.event_type },
            { header: 'STATUS', value: (d) => d.status },
            { header: 'ATTEMPTS', value: (d) => d.attempts },
            { header: 'LAST HTTP', value: (d) => d.last_status_code },
            { header: 'NEXT ATTEMPT', value: (d) => d.next_attempt_at },
            { header: 'CREATED', value: (d) => d.created_at },
          ]),
        ];
        if (page.next_cursor) lines.push('', `More: tw-cli outbound deliveries ${id} --cursor ${page.next_cursor}`);
        return lines.join('\n');
      });
    });

  outbound
    .command('delivery <delivery-id>')
    .description('one delivery with every attempt: status, answer, duration, error')
    .option('--organisation <id>', ORGANISATION)
    .action(async (deliveryId: string, options: { organisation?: string }) => {
      const delivery = await cli.api().request<Schema<'DeliveryDetailDto'>>('GET', `${await base(options.organisation)}/deliveries/${encodeURIComponent(deliveryId)}`);
      cli.print(delivery, () =>
        [
          fields([
            ['delivery', delivery.id],
            ['event', `${delivery.event_id} (${delivery.event_type})`],
            ['status', delivery.status + (delivery.failure_reason ? ` (${delivery.failure_reason})` : '')],
            ['attempts', delivery.attempts],
            ['next attempt', delivery.next_attempt_at],
            ['last error', delivery.last_error],
          ]),
          ...(delivery.attempt_log ?? []).map(describeAttempt),
        ].join('\n'),
      );
    });

  outbound
    .command('redeliver <delivery-id>')
    .description('deliver a finished delivery again (a dead letter, a success, a cancelled one), same delivery id')
    .option('--organisation <id>', ORGANISATION)
    .action(async (deliveryId: string, options: { organisation?: string }) => {
      const delivery = await cli.api().request<Delivery>('POST', `${await base(options.organisation)}/deliveries/${encodeURIComponent(deliveryId)}/redeliver`);
      cli.print(delivery, () => `Delivery ${delivery.id} is ${delivery.status} again.`);
    });

  outbound
    .command('recover <id>')
    .description("redeliver the webhook's dead letters that failed in a time window")
    .requiredOption('--since <time>', 'failed at or after: unix seconds or ISO 8601', parseInstant)
    .option('--until <time>', 'and before (exclusive)', parseInstant)
    .option('--organisation <id>', ORGANISATION)
    .action(async (id: string, options: { since: string; until?: string; organisation?: string }) => {
      const recovered = await cli.api().request<{ delivery_ids: string[] }>('POST', await hook(options.organisation, id, '/recover'), { since: options.since, until: options.until });
      cli.print(recovered, () =>
        recovered.delivery_ids.length ? [`Redelivering ${recovered.delivery_ids.length} dead letter(s):`, ...recovered.delivery_ids].join('\n') : 'No dead letters in that window.',
      );
    });
}
