import type { Command } from 'commander';
import type { CliContext } from '../context';
import { parsePositive } from '../parsers';

type LogRecord = Record<string, unknown>;

/** A Map: `level` is whatever the server's log line says, and must not find an inherited member. */
const LEVELS = new Map<unknown, string>([[10, 'TRACE'], [20, 'DEBUG'], [30, 'INFO'], [40, 'WARN'], [50, 'ERROR'], [60, 'FATAL']]);

/** The server keeps its last 1000 records (LOG_WINDOW); --follow asks for all of them on each poll. */
const WINDOW = 1000;

export function formatRecord(record: LogRecord): string {
  const { time, level, msg, service: _service, ...fields } = record;
  const rest = Object.entries(fields)
    .map(([key, value]) => `${key}=${typeof value === 'string' ? value : JSON.stringify(value)}`)
    .join(' ');
  return `${String(time)} ${(LEVELS.get(level) ?? String(level)).padEnd(5)} ${String(msg ?? '')}${rest ? `  ${rest}` : ''}`;
}

/**
 * The records of `next` that come after the last one already printed. The server has no cursor for its log
 * window, so the last printed record is found again by content; when it has scrolled out of the window (more
 * than 1000 new records between two polls), everything in the window is new.
 */
export function newRecords(last: string | undefined, next: LogRecord[]): LogRecord[] {
  if (last === undefined) return next;
  const keys = next.map((record) => JSON.stringify(record));
  const at = keys.lastIndexOf(last);
  return at === -1 ? next : next.slice(at + 1);
}

/** `tw-cli logs --filter --tail [--follow]`: the instance's recent log records (the seed's verb). */
export function registerLogs(program: Command, cli: CliContext): void {
  program
    .command('logs')
    .description("print this instance's recent log records, oldest first (instance admin key)")
    .option('--filter <text>', 'only records containing this text, case-insensitive, e.g. webhook')
    .option('--tail <n>', 'how many of the most recent records (at most 1000)', parsePositive, 100)
    .option('-f, --follow', 'keep printing new records as they come, until interrupted (Ctrl-C); with --json, one JSON record per line')
    .option('--interval <seconds>', 'with --follow: seconds between polls', parsePositive, 1)
    .action(async (options: { filter?: string; tail: number; follow?: boolean; interval: number }) => {
      const own = new Set<string>();
      const fetchRecords = async (tail: number) => {
        const answer = await cli.api().exchange<LogRecord[]>('GET', '/api/logs', undefined, { filter: options.filter, tail });
        const id = answer.headers.get('x-request-id');
        if (id) own.add(id);
        return answer.body;
      };
      // --follow would otherwise print the log lines of its own polls, two a second, forever.
      const notOwn = (records: LogRecord[]) => records.filter((record) => !own.has(String(record.reqId)));
      if (!options.follow) {
        const records = await fetchRecords(options.tail);
        if (cli.json()) return cli.out(JSON.stringify(records, null, 2));
        for (const record of records) cli.out(formatRecord(record));
        return;
      }
      const emit = (record: LogRecord) => cli.out(cli.json() ? JSON.stringify(record) : formatRecord(record));
      // The whole window is the anchor (only its tail is printed): an empty start must not print it all later.
      const window = notOwn(await fetchRecords(WINDOW));
      window.slice(-options.tail).forEach(emit);
      let last = window.length ? JSON.stringify(window.at(-1)) : undefined;
      // The loop ends with the process (SIGINT, SIGTERM); a failed poll ends it with that error's exit code.
      for (;;) {
        await new Promise((resolve) => setTimeout(resolve, options.interval * 1000));
        const fresh = newRecords(last, notOwn(await fetchRecords(WINDOW)));
        fresh.forEach(emit);
        if (fresh.length) last = JSON.stringify(fresh.at(-1));
      }
    });
}
