import { Option, type Command } from 'commander';
import type { CliContext } from '../context';
import { CliError, EXIT } from '../exit-codes';
import { fields, table } from '../output';
import { parseInstant, parsePositive, readJson, SEVERITIES } from '../parsers';
import type { Schema } from '../api';

/** The envelope of a security event, as GET /api/organisations/:orgId/events/:id answers and webhooks deliver it. */
type SecurityEvent = Schema<'SecurityEventDto'>;

type EventType = Schema<'EventTypeDto'>;

const when = (seconds: number) => new Date(seconds * 1000).toISOString();

function describeEvent(e: SecurityEvent): string {
  return [
    fields([
      ['event', e.id],
      ['type', e.event_type],
      ['at', when(e.timestamp)],
      ['severity', e.severity],
      ['title', e.title],
      ['category', e.owasp_category ? `${e.category ?? '-'} (${e.owasp_category})` : e.category],
      ['project', e.project_id],
    ]),
    `data          ${JSON.stringify(e.data)}`,
  ].join('\n');
}

/** `tw-cli events …`: publish security events and read the organisation's event log. */
export function registerEvents(program: Command, cli: CliContext): void {
  const events = program.command('events').description("security events: publish one, read the organisation's event log");
  const ORGANISATION = "organisation (default: the API key's own, or default)";
  const base = async (organisation?: string) => `/api/organisations/${await cli.organisation(organisation)}/events`;

  events
    .command('publish <type>')
    .description('publish a security event of a catalogued type (tw-cli event-types): recorded, then delivered to the webhooks')
    .requiredOption('--data <json>', "the event's data: JSON inline, @file.json, or - for standard input")
    .addOption(new Option('--severity <severity>', 'where the type leaves it open').choices([...SEVERITIES]))
    .option('--title <text>', "default: the type's title for this data")
    .option('--description <text>', 'default: the title')
    .option('--category <text>', 'e.g. prompt_injection')
    .option('--owasp-category <id>', 'e.g. LLM01')
    .option('--project <id>', "one of the organisation's projects")
    .option('--organisation <id>', ORGANISATION)
    .action(async (type: string, options: Record<string, string | undefined>) => {
      const data = readJson(options.data!, '--data');
      if (typeof data !== 'object' || data === null || Array.isArray(data)) throw new CliError('--data must be a JSON object', EXIT.usage);
      const event = await cli.api().request<SecurityEvent>('POST', await base(options.organisation), {
        event_type: type,
        data,
        severity: options.severity,
        title: options.title,
        description: options.description,
        category: options.category,
        owasp_category: options.owaspCategory,
        project_id: options.project,
      });
      cli.print(event, () => `Published ${event.event_type} ${event.id}\n${describeEvent(event)}`);
    });

  events
    .command('list')
    .description("the organisation's event log, oldest first (one page: --cursor with the printed next cursor gives the next)")
    .option('--type <type>', 'only this event type')
    .option('--project <id>', 'only this project')
    .option('--since <time>', 'from this time on: unix seconds or ISO 8601', parseInstant)
    .option('--until <time>', 'before this time', parseInstant)
    .option('--limit <n>', 'at most this many (1–500, default 100)', parsePositive)
    .option('--cursor <cursor>', "the previous page's next cursor")
    .option('--organisation <id>', ORGANISATION)
    .action(async (options: Record<string, string | number | undefined>) => {
      const page = await cli.api().request<{ items: SecurityEvent[]; next_cursor: string | null }>('GET', await base(options.organisation as string | undefined), undefined, {
        type: options.type,
        project_id: options.project,
        since: options.since,
        until: options.until,
        limit: options.limit,
        cursor: options.cursor,
      });
      cli.print(page, () => {
        if (page.items.length === 0) return 'No security events.';
        const lines = [
          table(page.items, [
            { header: 'ID', value: (e) => e.id },
            { header: 'AT', value: (e) => when(e.timestamp) },
            { header: 'TYPE', value: (e) => e.event_type },
            { header: 'SEVERITY', value: (e) => e.severity },
            { header: 'TITLE', value: (e) => e.title },
          ]),
        ];
        if (page.next_cursor) lines.push('', `More: tw-cli events list --cursor ${page.next_cursor}`);
        return lines.join('\n');
      });
    });

  events
    .command('show <id>')
    .description('one security event, as delivered')
    .option('--organisation <id>', ORGANISATION)
    .action(async (id: string, options: { organisation?: string }) => {
      const event = await cli.api().request<SecurityEvent>('GET', `${await base(options.organisation)}/${encodeURIComponent(id)}`);
      cli.print(event, () => describeEvent(event));
    });
}

/** `tw-cli event-types [type]`: the catalog, or one type with its JSON Schema and example. */
export function registerEventTypes(program: Command, cli: CliContext): void {
  program
    .command('event-types [type]')
    .description('the catalog of security event types; with a type, its JSON Schema and an example of its data')
    .action(async (type: string | undefined) => {
      const types = await cli.api().request<EventType[]>('GET', '/api/event-types');
      const severity = (t: EventType) => (t.severity.rule === 'derived' ? 'derived' : `${t.severity.rule} ${t.severity.value ?? ''}`.trim());
      if (type === undefined) {
        return cli.print(types, () =>
          table(types, [
            { header: 'TYPE', value: (t) => t.type },
            { header: 'CATEGORY', value: (t) => t.category },
            { header: 'SEVERITY', value: severity },
            { header: 'DESCRIPTION', value: (t) => t.description },
          ]),
        );
      }
      const found = types.find((t) => t.type === type);
      if (!found) {
        throw new CliError(`No event type '${type}'`, EXIT.notFound, { hint: `tw-cli event-types lists them: ${types.map((t) => t.type).join(', ')}` });
      }
      cli.print(found, () =>
        [
          fields([
            ['type', found.type],
            ['description', found.description],
            ['category', found.category],
            ['severity', found.severity.rule === 'derived' ? `derived: ${found.severity.description ?? ''}` : severity(found)],
          ]),
          'schema of data',
          JSON.stringify(found.schema, null, 2),
          'example data',
          JSON.stringify(found.example, null, 2),
        ].join('\n'),
      );
    });
}
