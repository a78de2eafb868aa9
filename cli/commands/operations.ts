import type { Command } from 'commander';
import type { CliContext } from '../context';
import { EXIT } from '../exit-codes';
import { fields, table } from '../output';
import { parsePositive } from '../parsers';
import type { Schema } from '../api';

type ParkedEvent = Schema<'ParkedEventDto'>;

/** `tw-cli health` and `tw-cli read-side …`: how the instance is doing, and its parked events (instance admin). */
export function registerOperations(program: Command, cli: CliContext): void {
  program
    .command('health')
    .description('the server at a glance: store, read side, parked events (no key needed; exit 6 when the store is unavailable)')
    .action(async () => {
      type Health = { status: string; event_store: string; store: string; parked: number; consumers: { name: string; kind: string; state: string; lag: number | null; parked: number }[] };
      const health = (await cli.api().health()) as Health;
      cli.print(health, () =>
        [
          fields([
            ['status', health.status],
            ['event store', `${health.event_store} (${health.store})`],
            ['parked events', health.parked],
          ]),
          '',
          table(health.consumers, [
            { header: 'CONSUMER', value: (c) => c.name },
            { header: 'KIND', value: (c) => c.kind },
            { header: 'STATE', value: (c) => c.state },
            { header: 'LAG', value: (c) => c.lag },
            { header: 'PARKED', value: (c) => c.parked },
          ]),
        ].join('\n'),
      );
      if (health.status === 'unavailable') process.exitCode = EXIT.server;
    });

  const readSide = program.command('read-side').description("the read side's parked events: those that failed to apply (instance admin key)");

  readSide
    .command('parked')
    .description('list the parked events, oldest first')
    .option('--consumer <name>', 'only this consumer (tw-cli health lists them)')
    .option('--limit <n>', 'at most this many (1–1000, default 100)', parsePositive)
    .action(async (options: { consumer?: string; limit?: number }) => {
      const parked = await cli.api().request<ParkedEvent[]>('GET', '/api/read-side/parked', undefined, { consumer: options.consumer, limit: options.limit });
      cli.print(parked, () =>
        parked.length
          ? table(parked, [
              { header: 'CONSUMER', value: (p) => p.consumer },
              { header: 'STATUS', value: (p) => p.status },
              { header: 'EVENT', value: (p) => `${p.stream}@${p.revision} ${p.type}` },
              { header: 'ATTEMPTS', value: (p) => p.attempts },
              { header: 'PARKED', value: (p) => p.parked_at },
              { header: 'ERROR', value: (p) => p.error },
            ])
          : 'No parked events.',
      );
    });

  readSide
    .command('retry <consumer>')
    .description("handle a consumer's parked events again, once the cause is fixed")
    .option('--partition <partition>', 'only this partition')
    .action(async (consumer: string, options: { partition?: string }) => {
      const outcomes = await cli
        .api()
        .request<{ partition: string; handled: number; still_parked: number; error: string | null }[]>('POST', '/api/read-side/parked/retry', { consumer, partition: options.partition });
      cli.print(outcomes, () =>
        outcomes.length
          ? table(outcomes, [
              { header: 'PARTITION', value: (o) => o.partition },
              { header: 'HANDLED', value: (o) => o.handled },
              { header: 'STILL PARKED', value: (o) => o.still_parked },
              { header: 'ERROR', value: (o) => o.error },
            ])
          : `Nothing parked for ${consumer}.`,
      );
      if (outcomes.some((o) => o.still_parked > 0)) process.exitCode = EXIT.other;
    });
}
