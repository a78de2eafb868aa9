import type { Command } from 'commander';
import { createWriteStream, readFileSync } from 'node:fs';
import type { Writable } from 'node:stream';
import { finished } from 'node:stream/promises';
import ProgressBar from 'progress';
import { publicKeyFrom } from '../../src/audit/verification/signatures';
import { ExportError, exportRecords } from '../audit/export-file';
import { ExportFormatError, verifyExportFile, type FileVerification } from '../audit/verify-file';
import type { CliContext } from '../context';
import { CliError, EXIT, exitCodeForStatus } from '../exit-codes';
import { fields, table } from '../output';
import { oneOf, parseInstant, parsePositive } from '../parsers';
import type { Schema } from '../api';

type StreamSummary = Schema<'StreamSummaryDto'>;

type AuditRecord = Schema<'AuditRecordDto'>;


/** The server's verification, or the offline one of an export file (`--file`), which says whether it was partial. */
type Verification = Schema<'VerificationDto'> | FileVerification;

/** A verify or replay job; the document leaves its `result` open (it depends on the kind), so it is named here. */
type Job<R> = Omit<Schema<'JobDto'>, 'result'> & { result: R | null };

/** A replay job's result (docs/audit.md): the document declares no schema of its own for it. */
interface Replay {
  events: number;
  projections: { name: string; rows: number; rebuilt_rows: number; equal: boolean; failed: number; sample_diffs: unknown[] }[];
}

type TraceEvent = Schema<'TraceEventDto'>;

const parseRevision = (value: string): number => {
  if (!/^\d+$/.test(value)) throw new CliError(`not a revision: '${value}' (0, 1, 2…)`, EXIT.usage);
  return Number(value);
};

function describeVerification(v: Verification): string {
  const lines = [
    fields([
      ['result', v.ok ? 'ok: every chain and checkpoint verifies' : `BROKEN: ${v.breaks.length} break(s)`],
      ['streams checked', v.streams_checked],
      ['events checked', v.events_checked],
      ['latest checkpoint', v.checkpoint ? `${v.checkpoint.ledger} #${v.checkpoint.sequence} at ${v.checkpoint.created_at} (key ${v.checkpoint.key_id}, ${v.checkpoint.key})` : 'none'],
    ]),
  ];
  if ('partial' in v && v.partial) {
    lines.push('', `partial export: ${v.anchored.length} stream(s) verified from the prev of their first record (removed streams and cut tails show only in a full export)`);
  }
  if (v.breaks.length > 0) {
    lines.push('', table(v.breaks, [
      { header: 'STREAM', value: (b) => b.stream },
      { header: 'REVISION', value: (b) => b.revision },
      { header: 'KIND', value: (b) => b.kind },
      { header: 'DETAIL', value: (b) => b.detail },
    ]));
  }
  return lines.join('\n');
}

/** Polls a job until it ends, with a progress bar on stderr (when stderr is a terminal). */
async function waitForJob<R>(cli: CliContext, path: string, label: string): Promise<Job<R>> {
  let bar: ProgressBar | undefined;
  for (;;) {
    const job = await cli.api().request<Job<R>>('GET', path);
    const head = Number(job.progress.head?.split('/')[0] ?? 0);
    if (process.stderr.isTTY && head > 0) {
      bar ??= new ProgressBar(`${label} [:bar] :percent :current/:total events :etas`, { total: head, width: 30, stream: process.stderr });
      bar.update(Math.min(1, job.progress.events / head));
    }
    if (job.state !== 'running') {
      bar?.terminate();
      if (job.state === 'failed') throw new CliError(`The ${label} job failed: ${job.error}`, EXIT.server);
      return job;
    }
    await new Promise((resolve) => setTimeout(resolve, 250));
  }
}

/** `tw-cli audit …`: read, export, verify (online and offline), checkpoint, trace and replay the log. */
export function registerAudit(program: Command, cli: CliContext): void {
  const audit = program.command('audit').description('the log as auditors use it: streams, export, verification, checkpoints, traces, replay (scope audit:read)');

  audit
    .command('streams')
    .description('streams with their head revision and hash (an organisation key: its own)')
    .option('--prefix <prefix>', 'only streams whose name starts with this, e.g. incident-')
    .option('--limit <n>', 'at most this many (1–1000, default 100)', parsePositive)
    .option('--cursor <cursor>', 'the next page (printed under a full page)')
    .action(async (options: { prefix?: string; limit?: number; cursor?: string }) => {
      const page = await cli.api().request<{ items: StreamSummary[]; next_cursor: string | null }>('GET', '/api/audit/streams', undefined, { ...options });
      cli.print(page, () =>
        [
          table(page.items, [
            { header: 'STREAM', value: (s) => s.stream },
            { header: 'REVISION', value: (s) => s.revision },
            { header: 'HASH', value: (s) => s.hash.slice(0, 16) },
            { header: 'ORGANISATION', value: (s) => s.organisation_id ?? 'instance' },
            { header: 'UPDATED', value: (s) => s.updated },
          ]),
          ...(page.next_cursor ? ['', `more: --cursor ${page.next_cursor}`] : []),
        ].join('\n'),
      );
    });

  audit
    .command('show <stream>')
    .description("a stream's events, with their revision, position, hash and prev")
    .option('--from <revision>', 'first revision (default: the start, or the end backwards)', parseRevision)
    .option('--limit <n>', 'at most this many (1–1000, default 100)', parsePositive)
    .option('--direction <direction>', 'forwards or backwards', oneOf(['forwards', 'backwards']))
    .action(async (stream: string, options: { from?: number; limit?: number; direction?: string }) => {
      const page = await cli.api().request<{ items: AuditRecord[]; next_cursor: string | null }>('GET', `/api/audit/streams/${encodeURIComponent(stream)}`, undefined, { ...options });
      cli.print(page, () =>
        [
          table(page.items, [
            { header: 'REV', value: (r) => r.revision },
            { header: 'POSITION', value: (r) => r.position },
            { header: 'TYPE', value: (r) => r.type },
            { header: 'CREATED', value: (r) => r.created },
            { header: 'ACTOR', value: (r) => String(r.metadata.actor ?? '') },
            { header: 'HASH', value: (r) => String(r.metadata.hash).slice(0, 16) },
          ]),
          ...(page.next_cursor ? ['', `more: --from ${page.next_cursor}`] : []),
        ].join('\n'),
      );
    });

  audit
    .command('export')
    .description('export as NDJSON (stdout or --output), a progress bar on stderr; verify it with `tw-cli audit verify --file`')
    .option('--stream <stream>', 'one stream')
    .option('--from <revision>', 'with --stream: from this revision (its first record anchors on prev)', parseRevision)
    .option('--all', 'the whole log the key may read')
    .option('--since <time>', 'with --all: only events recorded since this time (ISO 8601)', parseInstant)
    .option('--output <file>', 'write here instead of stdout')
    .action(async (options: { stream?: string; from?: number; all?: boolean; since?: string; output?: string }) => {
      if (Boolean(options.stream) === Boolean(options.all)) throw new CliError('Give --stream <stream> or --all', EXIT.usage);
      const { url, apiKey } = cli.settings();
      if (!apiKey) throw new CliError('No API key', EXIT.auth, { hint: 'Run `tw-cli login`, set TW_API_KEY, or pass --api-key tw_…' });
      const out: Writable = options.output ? createWriteStream(options.output) : process.stdout;
      let bar: ProgressBar | undefined;
      try {
        const count = await exportRecords(url, apiKey, {
          stream: options.stream,
          fromRevision: options.from,
          since: options.since === undefined ? undefined : new Date(/^\d+$/.test(options.since) ? Number(options.since) * 1000 : options.since).toISOString(),
          onProgress: ({ records, position, head }) => {
            if (!process.stderr.isTTY) return;
            if (head && position) {
              bar ??= new ProgressBar('exporting [:bar] :percent :records records :etas', { total: head, width: 30, stream: process.stderr });
              bar.update(Math.min(1, position / head), { records });
            } else process.stderr.write(`\rexported ${records} records`);
          },
        }, out);
        bar?.terminate();
        if (options.output) await finished(out);
        cli.err(`exported ${count} record(s)${options.output ? ` to ${options.output}` : ''}`);
      } catch (error) {
        if (error instanceof ExportError) throw new CliError(error.message, exitCodeForStatus(error.status), { status: error.status });
        throw error;
      }
    });

  audit
    .command('verify')
    .description('verify a file offline (--file), one stream, or everything the key may read (exit 1 when something is broken)')
    .option('--file <file>', 'an export: verified here, with no server and no database')
    .option('--public-key <key>', 'with --file: the Ed25519 key checkpoints must be signed with (base64, PEM, or @file); default the key each checkpoint names')
    .option('--stream <stream>', 'on the server: one stream')
    .option('--all', 'on the server: every stream, as a job')
    .action(async (options: { file?: string; publicKey?: string; stream?: string; all?: boolean }) => {
      const chosen = [options.file, options.stream, options.all].filter((o) => o !== undefined && o !== false).length;
      if (chosen !== 1) throw new CliError('Give one of --file <file>, --stream <stream> or --all', EXIT.usage);
      let verification: Verification;
      if (options.file) {
        let key;
        if (options.publicKey) {
          const text = options.publicKey.startsWith('@') ? readFileSync(options.publicKey.slice(1), 'utf8') : options.publicKey;
          try {
            key = publicKeyFrom(text);
          } catch (error) {
            throw new CliError(`--public-key: ${(error as Error).message}`, EXIT.usage);
          }
        }
        const bar = process.stderr.isTTY ? (records: number) => process.stderr.write(`\rverified ${records} records`) : undefined;
        try {
          verification = await verifyExportFile(options.file, { publicKey: key, onProgress: bar });
        } catch (error) {
          if (error instanceof ExportFormatError) throw new CliError(`${options.file}: ${error.message}`, EXIT.usage);
          if ((error as NodeJS.ErrnoException).code === 'ENOENT') throw new CliError(`${options.file}: no such file`, EXIT.usage);
          throw error;
        }
        if (bar) process.stderr.write('\n');
        if (!options.publicKey) cli.err('checkpoint signatures checked against the key each checkpoint names: pin it with --public-key (tw-cli audit checkpoint --public-key)');
      } else if (options.stream) {
        verification = await cli.api().request<Verification>('POST', '/api/audit/verify', { stream: options.stream });
      } else {
        const job = await cli.api().request<Job<Verification>>('POST', '/api/audit/verify', { all: true });
        verification = (await waitForJob<Verification>(cli, `/api/audit/verify/${job.id}`, 'verifying')).result!;
      }
      cli.print(verification, () => describeVerification(verification));
      if (!verification.ok) process.exitCode = EXIT.other;
    });

  audit
    .command('checkpoint')
    .description('take a signed ledger checkpoint now (or print the public key it is signed with)')
    .option('--public-key', 'print the Ed25519 public key instead')
    .action(async (options: { publicKey?: boolean }) => {
      if (options.publicKey) {
        const key = await cli.api().request<{ key_id: string; public_key: string; pem: string }>('GET', '/api/audit/public-key');
        cli.print(key, () => `${key.public_key}\n(key id ${key.key_id})`);
        return;
      }
      const taken = await cli.api().request<{ checkpoints: { ledger: string; sequence: number; streams: number; to: string; key_id: string }[] }>('POST', '/api/audit/checkpoints');
      cli.print(taken, () =>
        taken.checkpoints.length
          ? table(taken.checkpoints, [
              { header: 'LEDGER', value: (c) => c.ledger },
              { header: 'SEQUENCE', value: (c) => c.sequence },
              { header: 'STREAMS', value: (c) => c.streams },
              { header: 'UP TO', value: (c) => c.to },
              { header: 'KEY', value: (c) => c.key_id },
            ])
          : 'Nothing changed since the last checkpoint.',
      );
    });

  audit
    .command('trace [correlationId]')
    .description('the causal chain of a correlation id, or of an incident (--incident): receipt → incident → triage → security events → deliveries → attempts')
    .option('--incident <id>', 'the incident to trace')
    .action(async (correlationId: string | undefined, options: { incident?: string }) => {
      if (Boolean(correlationId) === Boolean(options.incident)) throw new CliError('Give a correlation id or --incident <id>', EXIT.usage);
      const path = options.incident ? `/api/incidents/${encodeURIComponent(options.incident)}/trace` : `/api/audit/trace/${encodeURIComponent(correlationId!)}`;
      const trace = await cli.api().request<{ correlation_id: string; events: TraceEvent[] }>('GET', path);
      cli.print(trace, () =>
        table(trace.events, [
          { header: 'STAGE', value: (e) => e.stage },
          { header: 'TYPE', value: (e) => e.type },
          { header: 'STREAM', value: (e) => `${e.stream}@${e.revision}` },
          { header: 'CREATED', value: (e) => e.created },
          { header: 'EVENT', value: (e) => e.id.slice(0, 8) },
          { header: 'CAUSED BY', value: (e) => e.caused_by?.slice(0, 8) },
        ]),
      );
    });

  audit
    .command('replay')
    .description('rebuild every projection from position zero and compare it with the live read models (instance admin; exit 1 when one differs)')
    .action(async () => {
      const job = await cli.api().request<Job<Replay>>('POST', '/api/audit/replay');
      const done = await waitForJob<Replay>(cli, `/api/audit/replay/${job.id}`, 'replaying');
      const replay = done.result!;
      cli.print(replay, () =>
        [
          `replayed ${replay.events} events`,
          table(replay.projections, [
            { header: 'PROJECTION', value: (p) => p.name },
            { header: 'ROWS', value: (p) => p.rows },
            { header: 'REBUILT', value: (p) => p.rebuilt_rows },
            { header: 'EQUAL', value: (p) => p.equal },
            { header: 'SKIPPED', value: (p) => p.failed },
          ]),
        ].join('\n'),
      );
      if (replay.projections.some((p) => !p.equal)) process.exitCode = EXIT.other;
    });
}
