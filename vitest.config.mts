import { defineConfig } from 'vitest/config';

/**
 * Load-generating files (the alternating-roles login load, the schemathesis fuzz run) saturate
 * 2 cores. Run alongside the rest, they starve the second-scale durable timers other tests count
 * on, so they run in a group of their own after everything else, one file at a time.
 */
const HEAVY = [
  'test/e2e/postgres-alternating-load.test.ts',
  'test/e2e/mariadb-alternating-load.test.ts',
  'test/e2e/redis-alternating-load.test.ts',
  'test/e2e/api-fuzz.test.ts',
];

export default defineConfig({
  test: {
    // Durations in tests are seconds, but real servers on a busy 2-core machine need headroom.
    testTimeout: 120_000,
    hookTimeout: 180_000,
    projects: [
      {
        extends: true,
        test: {
          name: 'suite',
          // Real Temporal, OpenBao and PostgreSQL, started once per project on free ports.
          globalSetup: ['test/setup/global-setup.ts'],
          include: ['test/**/*.test.ts'],
          exclude: HEAVY,
          // Each test file starts its own worker on its own task queue; two at a time fit 2 cores.
          maxWorkers: 2,
          sequence: { groupOrder: 0 },
        },
      },
      {
        extends: true,
        test: {
          name: 'heavy',
          globalSetup: ['test/setup/global-setup.ts'],
          include: HEAVY,
          fileParallelism: false,
          sequence: { groupOrder: 1 },
        },
      },
    ],
  },
});
