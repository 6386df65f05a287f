import { defineConfig } from 'vitest/config';

export default defineConfig({
  test: {
    environment: 'node',
    testTimeout: 300_000,
    hookTimeout: 300_000,
    // One Dawn device per worker process is plenty on two cores.
    pool: 'forks',
    maxWorkers: 2,
    projects: [
      { extends: true, test: { name: 'node', include: ['tests/**/*.test.ts'], exclude: ['tests/e2e/**'], sequence: { groupOrder: 0 } } },
      // The browser tests measure the page's frames: they run after the rest and one file at a time, so that
      // neither other tests nor a second Chromium with its SwiftShader take the page's two cores.
      { extends: true, test: { name: 'e2e', include: ['tests/e2e/**/*.test.ts'], fileParallelism: false, sequence: { groupOrder: 1 } } },
    ],
  },
});
