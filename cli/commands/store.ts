import type { Command } from 'commander';
import type { CliContext } from '../context';
import { EXIT } from '../exit-codes';
import { fields, table } from '../output';
import type { Schema } from '../api';

type BackupResult = Schema<'BackupResultDto'>;

type CopyJob = Schema<'CopyJobDto'>;

const POLL_MS = 1_000;

function progressLine(job: CopyJob): string {
  const p = job.progress;
  switch (job.state) {
    case 'checking':
      return `checking: ${p.events_scanned} events scanned and verified`;
    case 'copying':
      return `copying: ${p.events_copied}/${p.events_total} events`;
    case 'verifying':
      return `verifying: ${p.streams_verified}/${p.streams_total} streams read back`;
    default:
      return job.state;
  }
}

function jobText(job: CopyJob): string {
  const lines = [
    fields([
      ['job', job.id],
      ['state', job.state],
      ['to', job.to],
      ['up to position', job.last_position ?? '-'],
      ...(job.report
        ? ([
            ['streams', job.report.streams],
            ['events', job.report.events],
            ['verified', job.report.verified],
            ['mismatches', job.report.mismatch_count],
          ] as const)
        : []),
      ...(job.error ? ([['error', `${job.error.code}: ${job.error.message}`]] as const) : []),
    ]),
  ];
  if (job.report?.mismatches.length) {
    lines.push(
      '',
      table(job.report.mismatches, [
        { header: 'STREAM', value: (m) => m.stream },
        { header: 'REVISION', value: (m) => m.revision },
        { header: 'FIELD', value: (m) => m.field },
        { header: 'EXPECTED', value: (m) => m.expected },
        { header: 'ACTUAL', value: (m) => m.actual },
      ]),
    );
  }
  return lines.join('\n');
}

/** `tw-cli store …`: an online backup of the embedded store, and its copy to EventStoreDB (instance admin key). */
export function registerStore(program: Command, cli: CliContext): void {
  const store = program.command('store').description('the event store as a whole: online backup, copy to EventStoreDB (instance admin key; docs/store.md)');

  store
    .command('backup')
    .description('write a verified online backup of the embedded store into the data directory (the server keeps running)')
    .option('--path <path>', 'where, relative to the data directory (default backups/towline-<timestamp>.db)')
    .action(async (options: { path?: string }) => {
      const result = await cli.api().request<BackupResult>('POST', '/api/store/backup', options.path === undefined ? {} : { path: options.path });
      cli.print(result, () =>
        fields([
          ['path', result.path],
          ['events', result.events],
          ['bytes', result.bytes],
          ['last position', result.last_position ?? '-'],
        ]),
      );
    });

  store
    .command('copy')
    .description('copy every event of the embedded store to an empty EventStoreDB node, then verify it (ids, revisions, hashes)')
    .requiredOption('--to <connection-string>', 'the target, e.g. esdb://eventstore.internal:2113?tls=true')
    .option('--wait', 'follow the job until it ends (progress on stderr); exit 1 when it fails or finds mismatches')
    .action(async (options: { to: string; wait?: boolean }) => {
      let job = await cli.api().request<CopyJob>('POST', '/api/store/copy', { to: options.to });
      if (!options.wait) {
        cli.print(job, () => `${jobText(job)}\n\nFollow it: tw-cli store copy-status ${job.id}`);
        return;
      }
      let last = '';
      while (job.state !== 'done' && job.state !== 'failed') {
        const line = progressLine(job);
        if (line !== last) cli.err(line);
        last = line;
        await new Promise((resolve) => setTimeout(resolve, POLL_MS));
        job = await cli.api().request<CopyJob>('GET', `/api/store/copy/${encodeURIComponent(job.id)}`);
      }
      cli.print(job, () => jobText(job));
      if (job.state === 'failed' || !job.report?.verified) process.exitCode = job.error?.code === 'copy_target_not_empty' ? EXIT.conflict : EXIT.other;
    });

  store
    .command('copy-status <job>')
    .description('a copy job: its progress, then its report')
    .action(async (id: string) => {
      const job = await cli.api().request<CopyJob>('GET', `/api/store/copy/${encodeURIComponent(id)}`);
      cli.print(job, () => jobText(job));
      if (job.state === 'failed' || (job.state === 'done' && !job.report?.verified)) process.exitCode = EXIT.other;
    });
}
