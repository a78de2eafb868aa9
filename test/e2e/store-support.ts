import { mkdtempSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { runCli as runBuiltCli, type CliRun } from '../support/cli-process';
import { ADMIN_KEY } from '../support/test-app';

/** The built tw-cli (global setup builds dist/), run as a user would, with a config directory of its own. */
export async function runCli(url: string, args: string[], key = ADMIN_KEY): Promise<CliRun> {
  const configHome = mkdtempSync(join(tmpdir(), 'tw-cli-config-'));
  try {
    return await runBuiltCli(args, { ...process.env, XDG_CONFIG_HOME: configHome, TW_URL: url, TW_API_KEY: key });
  } finally {
    rmSync(configHome, { recursive: true, force: true });
  }
}
