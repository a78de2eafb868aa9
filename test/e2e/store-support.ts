import { spawn } from 'node:child_process';
import { mkdtempSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { ADMIN_KEY } from '../support/test-app';

/** The built tw-cli (global setup builds dist/), run as a user would, with a config directory of its own. */
export function runCli(url: string, args: string[], key = ADMIN_KEY): Promise<{ code: number | null; stdout: string; stderr: string }> {
  const configHome = mkdtempSync(join(tmpdir(), 'tw-cli-config-'));
  return new Promise((resolve) => {
    const child = spawn(process.execPath, [join(__dirname, '..', '..', 'dist', 'cli', 'tw-cli.js'), ...args], {
      env: { ...process.env, XDG_CONFIG_HOME: configHome, TW_URL: url, TW_API_KEY: key },
    });
    let stdout = '';
    let stderr = '';
    child.stdout.on('data', (d: Buffer) => (stdout += d.toString()));
    child.stderr.on('data', (d: Buffer) => (stderr += d.toString()));
    child.on('close', (code) => {
      rmSync(configHome, { recursive: true, force: true });
      resolve({ code, stdout, stderr });
    });
  });
}
