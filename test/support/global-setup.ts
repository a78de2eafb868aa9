import { spawnSync } from 'node:child_process';
import { existsSync } from 'node:fs';
import { join } from 'node:path';

/**
 * Builds dist/ once per run: the process-level tests (kill -9, SIGTERM) start the server exactly as
 * `npm start` does, from the compiled output. Type errors are the type check's business (`npm run
 * typecheck`, run by CI before the tests); tsc still emits, so only a missing output fails here.
 */
export default function setup(): void {
  const root = join(__dirname, '..', '..');
  const tsc = join(root, 'node_modules', 'typescript', 'bin', 'tsc');
  const result = spawnSync(process.execPath, [tsc, '-p', 'tsconfig.build.json'], { cwd: root, encoding: 'utf8' });
  if (result.status !== 0) console.warn(`tsc reported errors while building dist/ for the tests:\n${result.stdout}`);
  if (!existsSync(join(root, 'dist', 'src', 'main.js'))) throw new Error('Building dist/ failed');
}
