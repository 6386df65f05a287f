import { defineConfig } from 'vitest/config';

export default defineConfig({
  test: {
    include: ['tests/**/*.test.ts'],
    environment: 'node',
    testTimeout: 300_000,
    hookTimeout: 300_000,
    // One Dawn device per worker process is plenty on two cores; GPU tests share it through tests/gpu.ts.
    pool: 'forks',
    maxWorkers: 2,
  },
});
