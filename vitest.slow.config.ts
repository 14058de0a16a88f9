import { defineConfig } from 'vitest/config';

export default defineConfig({
  test: {
    include: ['test/slow/**/*.test.ts'],
    testTimeout: 300_000,
    hookTimeout: 300_000,
    pool: 'forks',
    globalSetup: ['test/global/temp-dirs.ts', 'test/global/build-dist.ts'],
    fileParallelism: false,
    passWithNoTests: true,
  },
});
