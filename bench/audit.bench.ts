import { fork } from 'node:child_process';
import { mkdtempSync, rmSync, statSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { compared, type Figure } from './measure';
import { replayStore } from './replay-store';

/**
 * Audit: export and verification of the replay store (1,000,000 events by default), each in a process of its
 * own so that its peak RSS is its own, each against a bare loop over the same rows in the same invocation —
 * read + JSON for the export (rows parsed and written as NDJSON lines), RFC 8785 + SHA-256 of every row for
 * verification (the hash rule's work and nothing else). Both Towline paths read through the event-store port
 * page by page: their peak RSS must not grow with the store.
 */

interface Measured {
  events: number;
  seconds: number;
  peakRssMib: number;
}

function measure(role: string, file: string, out: string): Promise<Measured> {
  return new Promise((resolve, reject) => {
    const child = fork(join(__dirname, 'audit-child.js'), [role, file, out], { stdio: ['ignore', 'inherit', 'inherit', 'ipc'] });
    let result: Measured | undefined;
    // Bounded: a hung child fails the benchmark instead of hanging the run.
    const timer = setTimeout(() => child.kill('SIGKILL'), 30 * 60_000);
    child.on('message', (message: Measured) => (result = message));
    child.on('exit', (code) => {
      clearTimeout(timer);
      if (code === 0 && result) resolve(result);
      else reject(new Error(`audit bench child '${role}' exited with ${code}`));
    });
  });
}

export async function auditBenchmark(): Promise<Figure[]> {
  const store = await replayStore();
  const file = join(store.dir, 'towline.db');
  const work = mkdtempSync(join(tmpdir(), 'towline-bench-audit-'));
  try {
    const out = join(work, 'export.ndjson');
    // Baselines first and again last, the faster of each pair counted: a cold page cache never flatters a ratio.
    const exportBase1 = await measure('export-baseline', file, out);
    const exported = await measure('export', file, out);
    const bytes = statSync(out).size;
    const exportBase2 = await measure('export-baseline', file, out);
    const verifyBase1 = await measure('verify-baseline', file, out);
    const verified = await measure('verify', file, out);
    const verifyBase2 = await measure('verify-baseline', file, out);
    const rate = (m: Measured) => m.events / m.seconds;
    const exportBase = rate(exportBase1) > rate(exportBase2) ? exportBase1 : exportBase2;
    const verifyBase = rate(verifyBase1) > rate(verifyBase2) ? verifyBase1 : verifyBase2;
    const complete = (m: Measured) => m.events === store.events;
    return [
      compared({
        name: 'audit: export the whole log as NDJSON',
        value: rate(exported),
        baseline: rate(exportBase),
        unit: 'events/s',
        target: 0.5,
        valid: complete(exported),
        note: complete(exported) ? undefined : `exported ${exported.events} of ${store.events} events`,
        extra: { events: exported.events, seconds: exported.seconds, bytes, peak_rss_mib: exported.peakRssMib, baseline_peak_rss_mib: exportBase.peakRssMib },
      }),
      compared({
        name: 'audit: export peak RSS against the bare loop’s',
        value: exported.peakRssMib,
        baseline: exportBase.peakRssMib,
        unit: 'MiB',
        better: 'lower',
        target: 2,
      }),
      compared({
        name: 'audit: verify every chain of the whole log',
        value: rate(verified),
        baseline: rate(verifyBase),
        unit: 'events/s',
        target: 0.5,
        valid: complete(verified),
        note: complete(verified) ? undefined : `verified ${verified.events} of ${store.events} events`,
        extra: { events: verified.events, seconds: verified.seconds, peak_rss_mib: verified.peakRssMib, baseline_peak_rss_mib: verifyBase.peakRssMib },
      }),
      compared({
        name: 'audit: verify peak RSS against the bare loop’s',
        value: verified.peakRssMib,
        baseline: verifyBase.peakRssMib,
        unit: 'MiB',
        better: 'lower',
        target: 2,
      }),
    ];
  } finally {
    rmSync(work, { recursive: true, force: true });
  }
}
