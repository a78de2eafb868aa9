export interface Result {
  name: string;
  perSecond: number;
  rssDeltaMb: number;
}

/** Times `work` (which does `operations` operations) and notes how much the resident set grew meanwhile. */
export async function measure(name: string, operations: number, work: () => Promise<void>): Promise<Result> {
  globalThis.gc?.();
  const rssBefore = process.memoryUsage().rss;
  const start = process.hrtime.bigint();
  await work();
  const seconds = Number(process.hrtime.bigint() - start) / 1e9;
  return { name, perSecond: operations / seconds, rssDeltaMb: (process.memoryUsage().rss - rssBefore) / 1024 / 1024 };
}

/** Prints both results and their ratio: the only number worth comparing between runs on a noisy machine. */
export function report(title: string, base: Result, ours: Result, unit: string): void {
  console.log(title);
  for (const r of [base, ours]) {
    console.log(`  ${r.name.padEnd(52)} ${r.perSecond.toFixed(0).padStart(8)} ${unit}  RSS Δ ${r.rssDeltaMb.toFixed(1)} MiB`);
  }
  console.log(`  ratio (towline / baseline throughput): ${(ours.perSecond / base.perSecond).toFixed(2)}x\n`);
}
