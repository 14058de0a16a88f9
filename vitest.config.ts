import { defineConfig } from 'vitest/config';

// Fast tier: unit and in-process integration tests (`npm test`).
// Slow tiers (real OpenSSH, real OAR, big runs) live under test/slow and run via `npm run test:slow`.
export default defineConfig({
  test: {
    include: ['test/**/*.test.ts'],
    exclude: ['test/slow/**', 'node_modules/**'],
    testTimeout: 60_000,
    hookTimeout: 60_000,
    pool: 'forks',
    // Build dist/ once for the run; fail the run if a test leaves a temporary entry behind.
    globalSetup: ['test/global/temp-dirs.ts', 'test/global/build-dist.ts'],
  },
});
