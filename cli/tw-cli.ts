#!/usr/bin/env node
import { Command, CommanderError, Option } from 'commander';
import { registerAudit } from './commands/audit';
import { registerEvents, registerEventTypes } from './commands/events';
import { registerIncidents } from './commands/incidents';
import { registerLogs } from './commands/logs';
import { registerKeys, registerOrgs, registerProjects } from './commands/organisations';
import { registerOperations } from './commands/operations';
import { registerOutbound } from './commands/outbound';
import { registerSession } from './commands/session';
import { registerStore } from './commands/store';
import { registerTriage } from './commands/triage';
import { registerWebhook } from './commands/webhook';
import { createContext, DEFAULT_URL, type CliContext, type Io } from './context';
import { CliError, EXIT } from './exit-codes';

/**
 * tw-cli: Towline from the command line. Reference, exit codes and settings: docs/cli.md.
 *
 * How commands are added: one file per group under cli/commands/, exporting `register<Group>(program, cli)`,
 * which adds its verbs to `program` (`program.command('<group>')…`) and is called once from `buildProgram`
 * below, in the order `--help` lists them. `cli` (cli/context.ts) is all a verb needs:
 *   - `cli.api().request(method, path, body?, query?)` — the API, with URL and key already resolved
 *     (flag > TW_URL / TW_API_KEY > the config file), the server checked to be Towline, and every failure
 *     turned into a CliError carrying its exit code (cli/exit-codes.ts), message and hint;
 *   - `cli.print(value, () => text)` — the JSON with --json, else the human text (cli/output.ts has
 *     `table` and `fields`);
 *   - `cli.organisation(options.organisation)` — the `:orgId` of organisation-scoped paths.
 * A verb throws CliError for what the user must fix (exit code from EXIT) and never calls process.exit,
 * so the entry reports every error the same way. Each verb has a description: `--help` shows it.
 */

export function buildProgram(io: Io = defaultIo()): { program: Command; cli: CliContext } {
  const program = new Command('tw-cli')
    .description('Towline, the open security webhook hub, from the command line')
    .version('0.1.0')
    .addOption(new Option('--url <url>', `Towline base URL, path prefix included (default: the config file's, else ${DEFAULT_URL})`).env('TW_URL'))
    .addOption(new Option('--api-key <key>', "API key, tw_… (default: the config file's)").env('TW_API_KEY'))
    .option('--json', 'print the JSON answers as they come, for scripts')
    .showHelpAfterError('(add --help for usage)')
    // Commander exits by throwing CommanderError, so its usage errors get exit code 2 like every other.
    .exitOverride()
    .configureOutput({ writeOut: (text) => process.stdout.write(text), writeErr: (text) => process.stderr.write(text) });
  const cli = createContext(program, io);

  registerWebhook(program, cli);
  registerIncidents(program, cli);
  registerOutbound(program, cli);
  registerEvents(program, cli);
  registerEventTypes(program, cli);
  registerTriage(program, cli);
  registerOrgs(program, cli);
  registerProjects(program, cli);
  registerKeys(program, cli);
  registerLogs(program, cli);
  registerOperations(program, cli);
  registerAudit(program, cli);
  registerStore(program, cli);
  registerSession(program, cli);

  program.addHelpText(
    'after',
    '\nSettings: --url > TW_URL > config file (tw-cli login) > http://localhost:8080; --api-key > TW_API_KEY > config file.\n' +
      'Exit codes: 0 ok, 1 other, 2 usage, 3 auth, 4 not found, 5 conflict, 6 server, 7 network, 8 not a Towline server (docs/cli.md).',
  );
  return { program, cli };
}

function defaultIo(): Io {
  return {
    out: (line) => process.stdout.write(`${line}\n`),
    err: (line) => process.stderr.write(`${line}\n`),
    env: process.env,
  };
}

/** One report for every failure: `error: <code>: <message>`, its details, the request id, and what to do. */
function report(error: CliError, command: Command | undefined, io: Io): void {
  const { code, details, requestId, status } = error.options;
  io.err(`error: ${code ? `${code}: ` : ''}${error.message}`);
  for (const line of details ?? []) io.err(`  ${line}`);
  if (requestId && status !== undefined && status >= 500) io.err(`  request id: ${requestId}`);
  const hint = error.options.hint ?? (status === 404 ? notFoundHint(error.message, command) : undefined);
  if (hint) io.err(`hint: ${hint}`);
}

/** A 404 names what is missing: point at the verb that lists what exists. */
function notFoundHint(message: string, command: Command | undefined): string | undefined {
  if (/^Organisation\b/.test(message)) return 'tw-cli orgs list shows the organisations this key can see; pass --organisation <id>.';
  const group = command?.parent;
  if (group?.parent && group.commands.some((c) => c.name() === 'list')) return `tw-cli ${group.name()} list shows what exists.`;
  return undefined;
}

export async function main(argv: string[] = process.argv, io: Io = defaultIo()): Promise<number> {
  const { program } = buildProgram(io);
  let ran: Command | undefined;
  program.hook('preAction', (_program, action) => {
    ran = action;
  });
  try {
    await program.parseAsync(argv);
    return typeof process.exitCode === 'number' ? process.exitCode : EXIT.ok;
  } catch (error) {
    // Help and --version end by throwing too, with exit code 0; commander has printed every other message.
    if (error instanceof CommanderError) return error.exitCode === 0 ? EXIT.ok : EXIT.usage;
    if (error instanceof CliError) {
      report(error, ran, io);
      return error.exitCode;
    }
    io.err(`error: ${(error as Error)?.message ?? String(error)}`);
    if (io.env.TW_CLI_DEBUG) io.err(String((error as Error)?.stack));
    return EXIT.other;
  }
}

/** Runs tw-cli as a process: from `node dist/cli/tw-cli.js`, the package bin, or cli/bin/tw-cli. */
export function run(): void {
  // `tw-cli … | head` closes the pipe early: that is the reader's choice, not an error.
  process.stdout.on('error', (error: NodeJS.ErrnoException) => {
    if (error.code === 'EPIPE') process.exit(process.exitCode ?? 0);
    throw error;
  });
  void main().then((code) => {
    process.exitCode = code;
  });
}

if (require.main === module) run();
