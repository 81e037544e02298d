import { defineConfig } from 'vitest/config';

export default defineConfig({
  test: {
    include: ['test/**/*.test.ts'],
    // Real Temporal, OpenBao and PostgreSQL, started once per run on free ports.
    globalSetup: ['test/setup/global-setup.ts'],
    // Durations in tests are seconds, but real servers on a busy 2-core machine need headroom.
    testTimeout: 120_000,
    hookTimeout: 180_000,
    // Each test file starts its own worker on its own task queue; two at a time fit 2 cores.
    maxWorkers: 2,
  },
});
