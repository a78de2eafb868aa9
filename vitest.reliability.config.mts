import swc from 'unplugin-swc';
import { defineConfig } from 'vitest/config';

/**
 * `npm run test:reliability` (also run by CI after `npm test`): crash, faulty-receiver and fuzz loops against
 * real servers on 127.0.0.1. Kept out of `npm test` (its files are *.reliability.ts, which the default config
 * does not include) because it takes minutes; every loop in it is bounded in count and time and prints its figures.
 */
export default defineConfig({
  plugins: [swc.vite({ module: { type: 'es6' } })],
  test: {
    include: ['test/reliability/**/*.reliability.ts'],
    testTimeout: 240_000,
    hookTimeout: 60_000,
    pool: 'forks',
    // One suite at a time: each one loads the machine on purpose, and their figures mean more alone.
    fileParallelism: false,
    globalSetup: ['test/support/global-setup.ts'],
  },
});
