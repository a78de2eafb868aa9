import swc from 'unplugin-swc';
import { defineConfig } from 'vitest/config';

/**
 * The EventStoreDB suites (every test file with `eventstoredb` in its path), run on their own by .ci/run
 * against the protocol fake, or by a user against a real node:
 *   EVENTSTORE_CONNECTION_STRING='esdb://127.0.0.1:2113?tls=false' npm run test:eventstoredb
 * The main `npm test` run leaves them to this one when CI has the fake (see .ci/run). No build of dist/
 * here: `npm test`, run before, has built it.
 */
export default defineConfig({
  plugins: [swc.vite({ module: { type: 'es6' } })],
  test: {
    include: ['src/**/*eventstoredb*/**/*.spec.ts', 'src/**/*eventstoredb*.spec.ts', 'test/**/*eventstoredb*/**/*.{spec,e2e-spec}.ts', 'test/**/*eventstoredb*.{spec,e2e-spec}.ts'],
    testTimeout: 60_000,
    hookTimeout: 30_000,
    pool: 'forks',
  },
});
