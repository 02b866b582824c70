import { defineConfig } from 'vitest/config';

/**
 * The reliability suite (issue 9): fault injection against the built CLI, real processes, etcd and mounts.
 * Kept out of the main run (vitest.config.ts includes only *.test.ts); `npm run test:reliability`.
 */
export default defineConfig({
  test: {
    include: ['test/reliability/**/*.reliability.ts'],
    globalSetup: ['test/global-setup.ts', 'test/reliability/summary-setup.ts'],
    testTimeout: 120_000,
    hookTimeout: 60_000,
    pool: 'forks',
    maxWorkers: 2,
    // the crash storm first, so the other files share the second core with it instead of adding to the end
    sequence: { shuffle: false },
  },
});
