import type { NestFastifyApplication } from '@nestjs/platform-fastify';
import { randomUUID } from 'node:crypto';
import { existsSync, mkdirSync, readFileSync, renameSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { createApp } from '../src/app.factory';
import { loadConfig } from '../src/config/config';
import { ReadSideRunner } from '../src/cqrs/read-side.runner';
import { EVENT_STORE, type EventData, type EventStore, type JsonObject, type Position } from '../src/event-store/event-store.port';
import { SqliteEventStore } from '../src/event-store/sqlite/sqlite.event-store';
import { IncidentNumberClaimed } from '../src/incidents/events/incident.events';
import { formatIncidentNumber } from '../src/incidents/incident.aggregate';
import { eventTypeOf } from '../src/cqrs/domain-event';
import { envInt, seconds } from './measure';
import { waitForHead } from './read-side';
import {
  ADMIN_KEY,
  SCENARIO_ENV,
  SOURCE_NAME,
  TEMPLATE_VERSION,
  api,
  deliveriesSettled,
  runActivity,
  setUpOrganisation,
  sourceName,
  startReceivers,
  type OrganisationSetup,
} from './scenario';

/**
 * The store the replay and growth benchmarks run on: BENCH_REPLAY_EVENTS events (1,000,000) over
 * BENCH_REPLAY_ORGS organisations (10), with the mix the end-to-end suites produce.
 *
 * How: a real Towline on a fresh data directory sets the organisations up through its API and runs the
 * scenario (scenario.ts) in the first one; the scenario's events, read back from the store, are the
 * template. The app stops, and copies of the template are appended straight through the store port
 * (SqliteEventStore.append, thousands of events per group commit) into the same file, each copy into the next
 * organisation in turn, with every uuid replaced by a fresh one per copy (consistently: the same uuid gets
 * the same replacement throughout the copy), the first organisation's ids and source names replaced by the
 * target organisation's, and incident numbers moved past the ones already taken in that organisation, so
 * the counters stay gap-free and unique. The organisations' own set-up (sources, secrets sealed to their
 * streams, webhooks) is real, from the API; only activity is copied.
 *
 * Generating takes a while, so the result is kept under the temp dir, keyed by the template version and the
 * sizes, and reused by later runs (BENCH_REPLAY_FRESH=1 makes a new one).
 */
export const REPLAY_EVENTS = envInt('BENCH_REPLAY_EVENTS', 1_000_000);
export const REPLAY_ORGS = envInt('BENCH_REPLAY_ORGS', 10);
/** Events appended per group commit while copying. */
const COPY_BATCH = 5_000;

/**
 * SLA targets far beyond any benchmark's life: a cached store is reused days later, and its incidents'
 * clocks must not all run out at once when an app starts on it (thousands of SlaBreached appends in the
 * middle of a measurement). Every bench app uses the same, so both sides of each ratio see it.
 */
export const BENCH_SLA_TARGETS = ['critical', 'high', 'medium', 'low', 'info'].map((s) => `${s}=3650d/3650d`).join(',');

export interface ReplayStore {
  /** Holds towline.db, master.key and the generating app's read-models.db. */
  dir: string;
  events: number;
  organisations: number;
  templateEvents: number;
  copies: number;
  /** Seconds spent generating it (by the run that did). */
  generationSeconds: number;
  reused: boolean;
}

/**
 * The environment of every Towline the benchmarks start. Rate limits are off (0): a benchmark measures
 * what the app can take, and a limiter doing its job would only turn the load into 429s.
 */
export function benchEnv(dataDir: string, extra: Record<string, string> = {}): Record<string, string> {
  return {
    TW_DATA_DIR: dataDir,
    TW_LOG_LEVEL: 'silent',
    TW_ADMIN_KEY: ADMIN_KEY,
    TW_SLA_TARGETS: BENCH_SLA_TARGETS,
    TW_WEBHOOK_RATE_LIMIT: '0',
    TW_API_RATE_LIMIT: '0',
    ...extra,
  };
}

export async function replayStore(): Promise<ReplayStore> {
  const root = join(tmpdir(), 'towline-bench-cache');
  const dir = join(root, `replay-t${TEMPLATE_VERSION}-e${REPLAY_EVENTS}-o${REPLAY_ORGS}`);
  const metaFile = join(dir, 'meta.json');
  if (process.env.BENCH_REPLAY_FRESH !== '1' && existsSync(metaFile)) {
    return { ...(JSON.parse(readFileSync(metaFile, 'utf8')) as Omit<ReplayStore, 'reused' | 'dir'>), dir, reused: true };
  }
  rmSync(dir, { recursive: true, force: true });
  // Generated beside its final place and renamed at the end, so an interrupted run never leaves a store
  // that a later run would take for complete.
  const partial = `${dir}.partial-${process.pid}`;
  rmSync(partial, { recursive: true, force: true });
  mkdirSync(partial, { recursive: true });
  try {
    const { result, seconds: generationSeconds } = await seconds(() => generate(partial));
    const meta: Omit<ReplayStore, 'reused' | 'dir'> = { ...result, generationSeconds };
    writeFileSync(join(partial, 'meta.json'), JSON.stringify(meta, null, 2));
    renameSync(partial, dir);
    return { ...meta, dir, reused: false };
  } catch (error) {
    rmSync(partial, { recursive: true, force: true });
    throw error;
  }
}

interface TemplateEvent {
  stream: string;
  id: string;
  type: string;
  data: JsonObject;
  metadata: JsonObject;
}

async function generate(dataDir: string): Promise<Omit<ReplayStore, 'reused' | 'dir' | 'generationSeconds'>> {
  const { template, organisations, incidentsPerCopy } = await recordTemplate(dataDir);
  const store = new SqliteEventStore(join(dataDir, 'towline.db'));
  try {
    let events = Number((await store.headPosition())?.commit ?? 0n);
    const copiesInto = new Map<number, number>(organisations.map((o) => [o.index, o.index === 0 ? 1 : 0]));
    const text = JSON.stringify(template);
    let copies = 0;
    let pending: Promise<unknown>[] = [];
    let pendingEvents = 0;
    const started = Date.now();
    let nextReport = REPLAY_EVENTS / 5;
    while (events + pendingEvents < REPLAY_EVENTS) {
      // The first organisation already holds the original; copies go round the others first.
      const target = organisations[(copies + 1) % organisations.length];
      const done = copiesInto.get(target.index)!;
      copiesInto.set(target.index, done + 1);
      const copy = rewrite(text, organisations[0], target, done * incidentsPerCopy);
      // One append per run of consecutive events of one stream, all issued in the same turn: the store
      // writes them in call order in one transaction, so the copy keeps the template's global order.
      for (let i = 0; i < copy.length; ) {
        let j = i + 1;
        while (j < copy.length && copy[j].stream === copy[i].stream) j++;
        const batch: EventData[] = copy.slice(i, j).map((e) => ({ id: e.id, type: e.type, data: e.data, metadata: e.metadata }));
        pending.push(store.append(copy[i].stream, batch));
        i = j;
      }
      pendingEvents += copy.length;
      copies += 1;
      if (pendingEvents >= COPY_BATCH) {
        await Promise.all(pending);
        events += pendingEvents;
        pending = [];
        pendingEvents = 0;
        if (events >= nextReport) {
          console.log(`    generating: ${events} / ${REPLAY_EVENTS} events (${(events / ((Date.now() - started) / 1000)).toFixed(0)}/s)`);
          nextReport += REPLAY_EVENTS / 5;
        }
      }
    }
    await Promise.all(pending);
    events += pendingEvents;
    return { events, organisations: organisations.length, templateEvents: template.length, copies };
  } finally {
    await store.close();
  }
}

/** Runs the scenario on a real app on `dataDir` and reads its events back: the template to multiply. */
async function recordTemplate(dataDir: string): Promise<{ template: TemplateEvent[]; organisations: OrganisationSetup[]; incidentsPerCopy: number }> {
  const config = loadConfig(benchEnv(dataDir, SCENARIO_ENV));
  const app: NestFastifyApplication = await createApp(config);
  const receivers = await startReceivers();
  try {
    await app.listen({ port: 0, host: '127.0.0.1' });
    const a = api(`http://127.0.0.1:${(app.getHttpServer().address() as { port: number }).port}`);
    const store = app.get<symbol, EventStore>(EVENT_STORE);
    const runner = app.get(ReadSideRunner);

    const organisations: OrganisationSetup[] = [];
    for (let i = 0; i < REPLAY_ORGS; i++) organisations.push(await setUpOrganisation(a, i, receivers));
    await waitForHead(runner, store, 30_000);
    const setUpTo = await store.headPosition();

    await runActivity(a, organisations[0]);
    const deadline = Date.now() + 60_000;
    // Settled: every delivery has ended, every consumer has seen the whole log, and nothing more is coming.
    for (;;) {
      if (Date.now() > deadline) throw new Error('The scenario did not settle within 60 s');
      await waitForHead(runner, store, 10_000);
      const head = await store.headPosition();
      if (await deliveriesSettled(a, organisations[0])) {
        await new Promise((resolve) => setTimeout(resolve, 1_000));
        const after = await store.headPosition();
        if (after?.commit === head?.commit) break;
      } else {
        await new Promise((resolve) => setTimeout(resolve, 200));
      }
    }

    const template: TemplateEvent[] = [];
    const others = new Set(organisations.slice(1).map((o) => o.id));
    for (let after: Position | undefined = setUpTo; ; ) {
      const page = await store.readAll({ after, maxCount: 1_000 });
      for (const e of page) {
        const { hash: _hash, ...metadata } = e.metadata; // the store's own: it computes it again on append
        const text = JSON.stringify([e.stream, e.data, metadata]);
        // Only the first organisation's activity: nothing else is expected here, and copying it would put
        // another organisation's events into every copy.
        if ([...others].some((id) => text.includes(id))) throw new Error(`Unexpected event outside the scenario's organisation: ${e.type} on ${e.stream}`);
        template.push({ stream: e.stream, id: e.id, type: e.type, data: e.data, metadata });
      }
      if (page.length < 1_000) break;
      after = page[page.length - 1].position;
    }
    const claimed = eventTypeOf(IncidentNumberClaimed);
    const incidentsPerCopy = template.filter((e) => e.type === claimed).length;
    if (incidentsPerCopy === 0) throw new Error('The scenario opened no incident');
    const types = new Map<string, number>();
    for (const e of template) types.set(e.type, (types.get(e.type) ?? 0) + 1);
    console.log(`    template: ${template.length} events of ${types.size} types, ${incidentsPerCopy} incidents`);
    return { template, organisations, incidentsPerCopy };
  } finally {
    await app.close();
    await receivers.close();
  }
}

const UUID = '[0-9a-f]{8}-[0-9a-f]{4}-[0-9a-f]{4}-[0-9a-f]{4}-[0-9a-f]{12}';
const TOKENS = new RegExp(`${UUID}|${SOURCE_NAME.source}|INC-(\\d{4})-(\\d{4,})`, 'g');

/**
 * One copy of the template for `target`: the first organisation's ids become the target's, every other uuid
 * a fresh one (the same one wherever it occurs in this copy), source names the target's, and incident
 * numbers (and the counter's sequences) move up by `numberOffset`.
 */
function rewrite(text: string, from: OrganisationSetup, target: OrganisationSetup, numberOffset: number): TemplateEvent[] {
  const fixed = new Map<string, string>([
    [from.id, target.id],
    [from.projectId, target.projectId],
    ...from.webhookIds.map((id, i) => [id, target.webhookIds[i]] as [string, string]),
  ]);
  const fresh = new Map<string, string>();
  const rewritten = text.replace(TOKENS, (token: string, kind?: string, _org?: string, year?: string, sequence?: string) => {
    if (kind) return sourceName(kind as 'mail' | 'edr' | 'siem', target.index);
    if (year) return formatIncidentNumber(Number(year), Number(sequence) + numberOffset);
    let id = fixed.get(token) ?? fresh.get(token);
    if (!id) fresh.set(token, (id = randomUUID()));
    return id;
  });
  const events = JSON.parse(rewritten) as TemplateEvent[];
  const claimed = eventTypeOf(IncidentNumberClaimed);
  for (const e of events) {
    if (e.type === claimed) e.data.sequence = (e.data.sequence as number) + numberOffset;
  }
  return events;
}
