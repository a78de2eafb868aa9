import { execFile, spawn, type ChildProcess } from 'node:child_process';
import { createHmac, randomBytes } from 'node:crypto';
import { mkdirSync, mkdtempSync, readdirSync, readFileSync, rmSync, symlinkSync, writeFileSync } from 'node:fs';
import { createServer } from 'node:net';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { RECEIVER_ENV, startReceiver, type ReceivedRequest, type Receiver } from '../support/receiver';
import { ADMIN_KEY, startTestApp, type TestApp } from '../support/test-app';

/**
 * Issue #11, point 7: the README's front door cannot rot.
 *
 * The convention: an HTML comment on the line right before a fenced block (README.md says so in "First steps").
 * - `<!-- runnable -->` before a ```bash block: this test runs it, in the README's order, as printed. All of
 *   them run in ONE bash, one after the other, as a reader pastes them into one terminal (what a block
 *   exports, the next one uses), with `set -eo pipefail` so that any command that fails fails the test.
 * - `<!-- runnable -->` before a ```ts or ```python block: the integrators' client quick start and the
 *   signature verification snippets; the last describe below type-checks and runs them (python3, the pinned
 *   Node) against a real server and on real deliveries.
 * - `<!-- not run: <reason> -->` before a ```bash block: not run here, for that reason. They must be exactly
 *   NOT_RUN below (and README.md lists them in Development): a new shell block in the README without one of
 *   the two comments fails this test, so none can slip in untested.
 *
 * What differs from a reader's terminal, and why:
 * - `npm ci && npm run build` is not run (it is one of NOT_RUN): the suite runs in the checkout that vitest's
 *   global setup has just built, and `npm ci` would delete and reinstall node_modules, and the build rewrite
 *   dist/, under the suites running beside this one. Everything else — starting the server and the receiver,
 *   tw-cli, curl, openssl — runs as printed.
 * - The blocks run in a scratch directory that links every entry of the checkout (WRITTEN aside), so what
 *   they write to the current directory (data/, towline.log, receiver.log, answer.json, towline.d.ts) lands
 *   there and not in the checkout.
 * - TW_PORT and RECEIVER_PORT are set to free ports: the README defaults them (`${TW_PORT:-8080}`,
 *   `${RECEIVER_PORT:-9000}`), so CI runs this beside other suites without rewriting a line. No other TW_*
 *   variable of the caller's environment is passed on, and HOME / XDG_CONFIG_HOME point into the scratch
 *   directory, so no tw-cli config file of the machine is read.
 */

const root = join(__dirname, '..', '..');
const SEEDS = join(root, '..', 'shared', 'seeds');
const readme = readFileSync(join(root, 'README.md'), 'utf8');

/** The shell blocks the test does not run (their first line), with why. README.md, Development, lists them too. */
const NOT_RUN: Record<string, string> = {
  'npm ci && npm start': 'npm start stays in the foreground, and npm test is the suite that runs this README',
  'npm ci && npm run build': 'would reinstall node_modules and rebuild dist/ under the suites running beside this one',
  'npm install openapi-fetch@0.17 && npm install --save-dev openapi-typescript@7 typescript@5': "installs into the current project: here, the checkout's package.json",
  'export TW_MASTER_KEY=$(openssl rand -hex 32)': 'docker compose: the build machines have no Docker engine',
  "EVENTSTORE_CONNECTION_STRING='esdb://localhost:2113?tls=false' npm run test:eventstoredb": 'needs an EventStoreDB node',
};

interface Block {
  language: string;
  tag: 'runnable' | 'not run' | undefined;
  /** The block's text with the fence's indentation removed (blocks inside list items are indented). */
  code: string;
  /** 1-based line of the opening fence in README.md. */
  line: number;
}

function blocks(markdown: string): Block[] {
  const lines = markdown.split('\n');
  const found: Block[] = [];
  for (let i = 0; i < lines.length; i++) {
    const open = /^(\s*)```(\w*)\s*$/.exec(lines[i]);
    if (!open) continue;
    const [, indent, language] = open;
    const end = lines.findIndex((line, j) => j > i && line.trim() === '```');
    if (end < 0) throw new Error(`README.md line ${i + 1}: a fence that is never closed`);
    const before = (lines[i - 1] ?? '').trim();
    const tag = before === '<!-- runnable -->' ? 'runnable' : before.startsWith('<!-- not run:') ? 'not run' : undefined;
    const code = lines
      .slice(i + 1, end)
      .map((line) => (line.startsWith(indent) ? line.slice(indent.length) : line))
      .join('\n');
    found.push({ language, tag, code, line: i + 1 });
    i = end;
  }
  return found;
}

const SHELL = new Set(['bash', 'sh', 'shell', 'console']);
const all = blocks(readme);
/** A block's first command, without its comment: how NOT_RUN and README.md's Development section name it. */
const firstLine = (block: Block) => block.code.split('\n')[0].replace(/\s+#.*$/, '').trim();

async function freePort(): Promise<number> {
  const server = createServer();
  await new Promise<void>((resolve) => server.listen(0, '127.0.0.1', resolve));
  const { port } = server.address() as { port: number };
  await new Promise<void>((resolve) => server.close(() => resolve()));
  return port;
}

describe("the README's blocks", () => {
  it('tags every shell block runnable or not run, and the not-run ones are exactly the listed ones', () => {
    const untagged = all.filter((block) => SHELL.has(block.language) && !block.tag);
    expect(untagged.map((block) => `line ${block.line}: ${firstLine(block)}`), 'shell blocks with neither <!-- runnable --> nor <!-- not run: … -->').toEqual([]);
    const notRun = all.filter((block) => block.tag === 'not run').map(firstLine);
    expect(notRun.sort()).toEqual(Object.keys(NOT_RUN).sort());
    // The Development section names each of them, so a reader knows what is not exercised.
    const development = readme.slice(readme.indexOf('## Development'));
    for (const first of Object.keys(NOT_RUN)) expect(development, first).toContain(`\`${first}\``);
    // The snippets the last describe runs are there, and nothing else is tagged runnable in another language.
    expect(all.filter((block) => block.tag === 'runnable' && !SHELL.has(block.language)).map((block) => block.language)).toEqual(['ts', 'python', 'ts']);
  });
});

/** What the blocks write to the current directory (and .git): not linked into the scratch directory. */
const WRITTEN = new Set(['.git', 'data', 'towline.log', 'receiver.log', 'answer.json', 'towline.d.ts']);

/** A marker line between blocks on stdout, to cut the output into each block's. */
const MARK = '::readme-block::';

describe("the README's runnable shell blocks, in order, as printed", () => {
  let scratch: string;
  let child: ChildProcess | undefined;
  let run: { code: number | null; stdout: string; stderr: string };
  const runnable = all.filter((block) => block.tag === 'runnable' && SHELL.has(block.language));

  /** The output of the first block whose text contains `text`. */
  const outputOf = (text: string): string => {
    const index = runnable.findIndex((block) => block.code.includes(text));
    if (index < 0) throw new Error(`No runnable block contains ${text}`);
    return run.stdout.split(`${MARK}\n`)[index + 1] ?? '';
  };

  beforeAll(async () => {
    scratch = mkdtempSync(join(tmpdir(), 'towline-readme-'));
    // Everything of the checkout but what a run of the README writes (and .git): a file such as redocly.yaml,
    // which openapi-typescript reads from the current directory, must be there as it is for the reader.
    for (const entry of readdirSync(root)) if (!WRITTEN.has(entry)) symlinkSync(join(root, entry), join(scratch, entry));
    const env: Record<string, string> = {};
    for (const [name, value] of Object.entries(process.env)) if (value !== undefined && !name.startsWith('TW_')) env[name] = value;
    Object.assign(env, {
      TW_PORT: String(await freePort()),
      RECEIVER_PORT: String(await freePort()),
      HOME: scratch,
      XDG_CONFIG_HOME: join(scratch, '.config'),
    });
    const script = ['set -eo pipefail', ...runnable.map((block) => `echo '${MARK}'\n${block.code}`), `echo '${MARK}'`].join('\n');
    // Its own process group (detached), so that whatever the blocks leave running can be killed as a whole.
    child = spawn('bash', ['-c', script], { cwd: scratch, env, detached: true, stdio: ['ignore', 'pipe', 'pipe'] });
    let stdout = '';
    let stderr = '';
    child.stdout!.on('data', (chunk: Buffer) => (stdout += chunk.toString()));
    child.stderr!.on('data', (chunk: Buffer) => (stderr += chunk.toString()));
    const code = await new Promise<number | null>((resolve) => {
      // Bounded: the blocks wait at most 30 s for any one thing; this is the whole run's limit.
      const timer = setTimeout(() => killGroup(child!), 100_000);
      child!.once('exit', (exitCode) => {
        clearTimeout(timer);
        resolve(exitCode);
      });
    });
    run = { code, stdout, stderr };
  }, 120_000);

  afterAll(() => {
    if (child) killGroup(child);
    if (scratch) rmSync(scratch, { recursive: true, force: true });
  });

  it('run to the end, each command succeeding', () => {
    const ran = run.stdout.split(`${MARK}\n`).length - 2;
    const failed = ran < runnable.length ? runnable[ran] : undefined;
    expect(
      run.code,
      `bash exited ${run.code}${failed ? ` in the block at README.md line ${failed.line}:\n${failed.code}` : ''}\n--- stdout\n${run.stdout}\n--- stderr\n${run.stderr}` +
        `\n--- towline.log (last lines)\n${tail(join(scratch, 'towline.log'))}`,
    ).toBe(0);
    expect(ran).toBe(runnable.length);
  });

  it('start Towline on a fresh embedded store and reach it with the admin key they chose', () => {
    const [health, organisations] = outputOf('node dist/src/main.js').trim().split('\n').map((line) => JSON.parse(line));
    expect(health).toMatchObject({ status: 'ok', event_store: 'sqlite' });
    expect(organisations.map((organisation: { id: string; name: string }) => organisation.name)).toContain('default');
  });

  it('open a first incident from a signed alert, list it and show its triage verdict', () => {
    expect(outputOf('tw-cli webhook add email-gateway')).toContain('Registered email-gateway');
    const answer = JSON.parse(outputOf('| tee answer.json'));
    expect(answer).toMatchObject({ status: 'accepted', incident_number: expect.stringMatching(/^INC-\d{4}-0001$/) });
    const shown = outputOf('tw-cli incidents list');
    expect(shown).toMatch(new RegExp(`^${answer.incident_number}\\s+open\\s+\\w+\\s+email-gateway\\s+1\\b`, 'm'));
    expect(shown).toMatch(/^verdict\s+malicious \(score \d+\)$/m);
    expect(shown).toMatch(/^phishing_triage\s+completed\s+malicious\b.*paypa1\.com/m);
  });

  it("deliver the incident's finding.created to the receiver the README started, signed both ways", () => {
    const answer = JSON.parse(readFileSync(join(scratch, 'answer.json'), 'utf8'));
    const received = readFileSync(join(scratch, 'receiver.log'), 'utf8').trim().split('\n').map((line) => JSON.parse(line));
    const delivery = received.find((request) => request.headers['x-towline-event'] === 'finding.created' && request.path === '/siem');
    expect(delivery, JSON.stringify(received)).toBeDefined();
    expect(JSON.parse(delivery.body)).toMatchObject({ event_type: 'finding.created', data: { finding_id: answer.incident_id, incident_number: answer.incident_number } });
    expect(delivery.headers['x-towline-signature']).toMatch(/^sha256=[0-9a-f]{64}$/);
    expect(delivery.headers['webhook-signature']).toMatch(/^v1,[A-Za-z0-9+/]{43}=$/);
    expect(delivery.headers['webhook-id']).toBe(delivery.headers['x-towline-delivery']);
    // What the block printed: the receiver's line, and the webhook with its first success.
    expect(outputOf('cat receiver.log')).toContain('"x-towline-event":"finding.created"');
    expect(outputOf('cat receiver.log')).toMatch(/envelope\s+yes\s+finding\.created\s+100%/);
  });

  it('register the CLI and curl sources under distinct names, and send the test events', () => {
    const registered = outputOf('tw-cli webhook add edr');
    expect(registered).toContain('Registered edr');
    expect(JSON.parse(registered.slice(registered.indexOf('{')))).toMatchObject({ source: 'siem', auto_triage: true, playbook: 'default_triage' });
    const [seeds, cli] = outputOf("BODY='{\"event_type\":\"test\"").split('POST /api/webhooks/email-gateway → 202');
    expect(JSON.parse(seeds)).toMatchObject({ status: 'accepted', incident_id: null });
    expect(cli).toContain('Test event verified.');
  });

  it('register an outbound webhook with curl, list parked events and stop everything they started', () => {
    const created = JSON.parse(outputOf('/api/organisations/default/webhooks'));
    expect(created).toMatchObject({ url: expect.stringMatching(/^http:\/\/127\.0\.0\.1:\d+\/hooks\/towline$/), secret: expect.stringMatching(/^whsec_/) });
    const [parked] = outputOf('/api/read-side/parked').trim().split('\n').map((line) => JSON.parse(line));
    expect(parked).toBeTypeOf('object');
    // The last block killed the server and the receiver and waited for them: nothing of the group is left.
    expect(() => process.kill(-child!.pid!, 0)).toThrow(/ESRCH/);
    expect(tail(join(scratch, 'towline.log'))).toContain('"msg":"Stopped"');
  });
});

/**
 * The verification snippets of "Verifying Towline's signatures", each with a few lines appended that read
 * cases from stdin and print, per case, what the snippet's two functions answer. The cases are real deliveries,
 * captured by a receiver from a real server (in this process), with the right secret, a tampered body and a
 * wrong secret.
 */
const PYTHON_HARNESS = `
import json, sys
def check(case):
    body, headers = base64.b64decode(case["body"]), case["headers"]
    return {"towline": verify(body, case["secret"], headers["x-towline-signature"]), "standard": verify_standard_webhooks(body, case["secret"], headers)}
print(json.dumps([check(case) for case in json.load(sys.stdin)]))
`;
const TS_HARNESS = `
import { readFileSync } from 'node:fs';
const cases = JSON.parse(readFileSync(0, 'utf8')) as { body: string; secret: string; headers: Headers }[];
const answers = cases.map(({ body, secret, headers }) => ({
  towline: verifyTowline(Buffer.from(body, 'base64'), secret, String(headers['x-towline-signature'])),
  standard: verifyStandardWebhooks(Buffer.from(body, 'base64'), secret, headers),
}));
console.log(JSON.stringify(answers));
`;

/** A different secret of the same kind (a whsec_ one must stay valid base64 for the snippets to decode). */
const otherSecret = (secret: string) => (secret.startsWith('whsec_') ? `whsec_${randomBytes(32).toString('base64')}` : `${secret}x`);

interface Case {
  what: string;
  body: Buffer;
  secret: string;
  headers: Record<string, string>;
  expected: { towline: boolean; standard: boolean };
}

function execute(command: string, args: string[], input: string, env: Record<string, string> = {}, cwd?: string): Promise<string> {
  return new Promise((resolve, reject) => {
    const options = { encoding: 'utf8' as const, timeout: 30_000, env: { ...process.env, ...env }, cwd };
    const spawned = execFile(command, args, options, (error, stdout, stderr) =>
      error ? reject(new Error(`${command} ${args.join(' ')}: ${error.message}\n${stderr}`)) : resolve(stdout),
    );
    spawned.stdin!.end(input);
  });
}

/** tsc takes about 10 s here alone; beside the whole suite on two cores, several times that. */
const TSC_TIMEOUT = 120_000;

/** `tsc --strict` on one file, as a reader's project would; any diagnostic fails with its text. */
async function typeCheck(file: string): Promise<void> {
  const tsc = join(root, 'node_modules', 'typescript', 'bin', 'tsc');
  const options = ['--noEmit', '--strict', '--target', 'es2022', '--module', 'nodenext', '--types', 'node', '--typeRoots', join(root, 'node_modules', '@types')];
  await execute(process.execPath, [tsc, ...options, file], '');
}

describe("the README's TypeScript snippets and signature verification snippets", () => {
  let t: TestApp;
  let receiver: Receiver;
  let dir: string;
  const cases: Case[] = [];
  const snippet = (language: string, containing: string) =>
    all.find((block) => block.tag === 'runnable' && block.language === language && block.code.includes(containing))!.code;

  /** A delivery's cases: accepted as received; refused with one byte of the body changed, or another secret. */
  function casesOf(what: string, request: ReceivedRequest, secret: string, expected = { towline: true, standard: true }): void {
    const tampered = Buffer.from(request.body);
    tampered[tampered.indexOf('"title":"') + 9] ^= 0x01;
    cases.push(
      { what: `${what}: as received`, body: request.body, secret, headers: request.headers, expected },
      { what: `${what}: one byte of the body changed`, body: tampered, secret, headers: request.headers, expected: { towline: false, standard: false } },
      { what: `${what}: another secret`, body: request.body, secret: otherSecret(secret), headers: request.headers, expected: { towline: false, standard: false } },
    );
  }

  beforeAll(async () => {
    dir = mkdtempSync(join(tmpdir(), 'towline-readme-snippets-'));
    t = await startTestApp({ env: RECEIVER_ENV });
    receiver = await startReceiver(() => ({ status: 204 }));
    const webhook = async (body: Record<string, unknown>) => {
      const created = await t.request('POST', '/api/organisations/default/webhooks', { url: `${receiver.url}/hooks`, event_types: ['campaign.completed'], ...body });
      expect(created.status, JSON.stringify(created.body)).toBe(201);
      return created.body;
    };
    const publish = async (campaign: string, count: number) => {
      const published = await t.request('POST', '/api/organisations/default/events', { event_type: 'campaign.completed', title: `Campaign ${campaign}`, data: { campaign_id: campaign } });
      expect(published.status, JSON.stringify(published.body)).toBe(201);
      return (await receiver.waitFor(count)).slice(-1)[0];
    };
    // A generated Standard Webhooks secret (whsec_…), then a plain shared string (the seed's kind of secret).
    const generated = await webhook({});
    casesOf('a whsec_ secret', await publish('c-1', 1), generated.secret);
    const disabled = await t.request('PATCH', `/api/organisations/default/webhooks/${generated.id}`, { enabled: false });
    expect(disabled.status, JSON.stringify(disabled.body)).toBe(200);
    const shared = 'a plain shared secret, as the seed configures receivers';
    const plain = await webhook({ secret: shared });
    casesOf('a shared string secret', await publish('c-2', 2), shared);
    // A rotation in its grace period: webhook-signature holds two signatures; X-Towline-Signature the old secret's.
    const rotated = await t.request('POST', `/api/organisations/default/webhooks/${plain.id}/rotate-secret`, { grace_period_seconds: 3600 });
    expect(rotated.status, JSON.stringify(rotated.body)).toBe(200);
    const during = await publish('c-3', 3);
    expect(during.headers['webhook-signature'].split(' ')).toHaveLength(2);
    casesOf('a rotation, the old secret', during, shared);
    casesOf('a rotation, the new secret', during, rotated.body.secret, { towline: false, standard: true });
  }, 60_000);

  afterAll(async () => {
    await t?.close();
    await receiver?.close();
    if (dir) rmSync(dir, { recursive: true, force: true });
  });

  const input = () => JSON.stringify(cases.map(({ body, secret, headers }) => ({ body: body.toString('base64'), secret, headers })));
  const judged = (answers: { towline: boolean; standard: boolean }[]) => cases.map((c, i) => ({ what: c.what, ...answers[i] }));
  const wanted = () => cases.map((c) => ({ what: c.what, ...c.expected }));

  it("the client quick start, on types generated from the committed document, type-checks and lists a real incident", async () => {
    // The README's generation command (run as printed by the shell blocks above), then its program beside the
    // types, as an integrator's project holds them.
    const project = join(dir, 'client');
    mkdirSync(project);
    symlinkSync(join(root, 'node_modules'), join(project, 'node_modules'));
    const generate = all.find((block) => block.tag === 'runnable' && block.code.startsWith('npx openapi-typescript'))!.code;
    expect(generate).toBe('npx openapi-typescript openapi/openapi.yaml -o towline.d.ts');
    // From the checkout, as the README runs it (openapi-typescript reads redocly.yaml from there).
    const cli = join(root, 'node_modules/openapi-typescript/bin/cli.js');
    await execute(process.execPath, [cli, 'openapi/openapi.yaml', '-o', join(project, 'towline.d.ts')], '', {}, root);
    const file = join(project, 'list-incidents.mts');
    writeFileSync(file, snippet('ts', "from 'openapi-fetch'"));
    await typeCheck(file);

    const secret = 'readme-client-source-secret';
    expect((await t.request('POST', '/api/webhooks', { source: 'readme-client', secret })).status).toBe(201);
    const body = JSON.stringify({ event_type: 'security_alert', source: 'readme-client', data: { alert_id: 'client-1', severity: 'high', title: 'Seen by the generated client' } });
    const timestamp = String(Math.floor(Date.now() / 1000));
    const signature = `sha256=${createHmac('sha256', secret).update(`${timestamp}.${body}`).digest('hex')}`;
    const sent = await fetch(`${t.url}/api/webhooks/readme-client`, {
      method: 'POST',
      headers: { 'content-type': 'application/json', 'x-webhook-signature': signature, 'x-webhook-timestamp': timestamp },
      body,
    });
    const answer = (await sent.json()) as { incident_number: string };
    expect(answer).toMatchObject({ status: 'accepted', incident_number: expect.stringMatching(/^INC-/) });

    const printed = await execute(process.execPath, [file], '', { TW_URL: t.url, TW_API_KEY: ADMIN_KEY });
    expect(printed).toMatch(new RegExp(`^${answer.incident_number} high \\S+ Seen by the generated client$`, 'm'));
    // And its error branch: a refused key is thrown with the envelope's code.
    await expect(execute(process.execPath, [file], '', { TW_URL: t.url, TW_API_KEY: 'tw_not-a-key-of-this-instance-0123456789' })).rejects.toThrow(/unauthorized: /);
  }, TSC_TIMEOUT);

  it('the Python one, run by python3, accepts the real deliveries and refuses tampered ones', async () => {
    // Its verify() is the seed's, character for character, as the README says.
    const seed = readdirSync(SEEDS).map((name) => readFileSync(join(SEEDS, name), 'utf8')).find((text) => text.includes('def verify('));
    const seedVerify = /def verify\(.*\n(?: {4}.*\n)+/.exec(seed ?? '')?.[0];
    expect(seedVerify, 'the outbound seed in shared/seeds').toBeDefined();
    expect(snippet('python', 'def verify(')).toContain(seedVerify!.trimEnd());
    const file = join(dir, 'verify.py');
    writeFileSync(file, snippet('python', 'def verify(') + PYTHON_HARNESS);
    expect(judged(JSON.parse(await execute('python3', [file], input())))).toEqual(wanted());
  });

  it('the TypeScript one, type-checked strictly and run by the pinned Node, does the same', async () => {
    const file = join(dir, 'verify.mts');
    writeFileSync(file, snippet('ts', 'function verifyTowline(') + TS_HARNESS);
    await typeCheck(file);
    // Node 24 runs TypeScript by stripping its types: the snippet as a reader would run it, no build step.
    expect(judged(JSON.parse(await execute(process.execPath, [file], input())))).toEqual(wanted());
  }, TSC_TIMEOUT);
});

function killGroup(process_: ChildProcess): void {
  try {
    process.kill(-process_.pid!, 'SIGKILL');
  } catch {
    // the group is gone already
  }
}

function tail(file: string, lines = 20): string {
  try {
    return readFileSync(file, 'utf8').trimEnd().split('\n').slice(-lines).join('\n');
  } catch {
    return '(none)';
  }
}
