import { appendBenchmark } from './append.bench';
import { ingestBenchmark } from './ingest.bench';

/**
 * `npm run bench`: each benchmark runs its baseline and Towline side by side in this process and reports the
 * ratio. Absolute numbers vary with the machine; ratios are what to compare between runs and commits.
 * Sizes: BENCH_APPENDS, BENCH_WRITERS, BENCH_INGEST_REQUESTS, BENCH_INGEST_CONCURRENCY.
 */
async function main(): Promise<void> {
  await appendBenchmark();
  await ingestBenchmark();
}

main().then(
  () => process.exit(0),
  (error: unknown) => {
    console.error(error);
    process.exit(1);
  },
);
