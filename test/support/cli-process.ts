import { spawn } from 'node:child_process';
import { join } from 'node:path';

/** The built tw-cli (the tests' global setup builds dist/). */
export const CLI = join(__dirname, '..', '..', 'dist', 'cli', 'tw-cli.js');

export interface CliRun {
  code: number | null;
  stdout: string;
  stderr: string;
}

/**
 * Runs the built tw-cli as a user does, on the pinned Node, with exactly `env` as its environment (each test
 * says where the settings come from) and `input`, if any, on stdin.
 */
export function runCli(args: string[], env: NodeJS.ProcessEnv, input?: string): Promise<CliRun> {
  return new Promise((resolve) => {
    const child = spawn(process.execPath, [CLI, ...args], { env });
    let stdout = '';
    let stderr = '';
    child.stdout.on('data', (d: Buffer) => (stdout += d.toString()));
    child.stderr.on('data', (d: Buffer) => (stderr += d.toString()));
    child.on('close', (code) => resolve({ code, stdout, stderr }));
    child.stdin.end(input);
  });
}
