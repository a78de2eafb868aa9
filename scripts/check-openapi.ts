import { spawnSync } from 'node:child_process';
import { readFileSync } from 'node:fs';
import { basename, dirname, join } from 'node:path';
import { generateOpenApi } from './generate-openapi';

/**
 * `npm run openapi:check` (CI runs it after lint): the committed openapi/openapi.json and .yaml must be exactly
 * what the code generates now, and must pass `@redocly/cli lint` with the recommended rules (redocly.yaml;
 * the written-down exceptions in .redocly.lint-ignore.yaml). Nothing is written: a stale file fails with the
 * first line that differs and the command that fixes it.
 */
export interface OpenApiCheck {
  stale: string[];
  lint: { status: number | null; output: string };
}

/** The project: two levels up from dist/scripts when compiled, one from scripts/ when a test imports the source. */
const root = basename(dirname(__dirname)) === 'dist' ? join(__dirname, '..', '..') : join(__dirname, '..');
const FILES = ['openapi/openapi.json', 'openapi/openapi.yaml'];
const TYPES = 'cli/towline-api.d.ts';

export async function checkOpenApi(): Promise<OpenApiCheck> {
  return { stale: await staleFiles(root), lint: lintOpenApi() };
}

/** The files under `dir` (the project, or a copy in a test) that are missing or differ from what the code generates. */
export async function staleFiles(dir: string): Promise<string[]> {
  const generated = await generateOpenApi();
  const stale: string[] = [];
  for (const [file, text] of [
    [FILES[0], generated.json],
    [FILES[1], generated.yaml],
    [TYPES, generated.types],
  ]) {
    let committed: string;
    try {
      committed = readFileSync(join(dir, file), 'utf8');
    } catch {
      stale.push(`${file} is missing`);
      continue;
    }
    if (committed !== text) stale.push(`${file} differs from the code, first at ${firstDifference(committed, text)}`);
  }
  return stale;
}

/** Redocly's lint of the committed files, offline: telemetry off (also in redocly.yaml), no update check. */
export function lintOpenApi(): { status: number | null; output: string } {
  const cli = join(root, 'node_modules', '@redocly', 'cli', 'bin', 'cli.js');
  const run = spawnSync(process.execPath, [cli, 'lint', ...FILES, '--format=codeframe'], {
    cwd: root,
    encoding: 'utf8',
    env: { ...process.env, REDOCLY_TELEMETRY: 'off', REDOCLY_SUPPRESS_UPDATE_NOTICE: 'true', NO_COLOR: '1' },
    timeout: 120_000,
  });
  return { status: run.status, output: `${run.stdout}${run.stderr}${run.error ? String(run.error) : ''}` };
}

function firstDifference(committed: string, generated: string): string {
  const a = committed.split('\n');
  const b = generated.split('\n');
  const line = a.findIndex((text, i) => text !== b[i]);
  const at = line === -1 ? a.length : line;
  return `line ${at + 1}:\n    committed: ${a[at] ?? '(end of file)'}\n    generated: ${b[at] ?? '(end of file)'}`;
}

if (require.main === module) {
  void checkOpenApi().then(({ stale, lint }) => {
    let failed = false;
    if (stale.length > 0) {
      failed = true;
      console.error(`The committed OpenAPI document is stale:\n  ${stale.join('\n  ')}\nRun \`npm run openapi\` and commit openapi/ and cli/towline-api.d.ts.`);
    } else {
      console.log('openapi/openapi.json, openapi.yaml and cli/towline-api.d.ts match the code.');
    }
    if (lint.status !== 0) {
      failed = true;
      console.error(`@redocly/cli lint failed (exit ${lint.status}):\n${lint.output}`);
    } else {
      console.log('@redocly/cli lint (recommended): clean.');
    }
    process.exitCode = failed ? 1 : 0;
  });
}
