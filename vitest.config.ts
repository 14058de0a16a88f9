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
    // Two files at a time even on 2 cores (vitest's default there is one): most files wait on
    // timers, boots and child processes rather than compute. Files never share a loopback
    // address:port: in-process sites draw a random /16, virtual sites get one from their name (each
    // test file names its own) and testbed tests pick free ports.
    maxWorkers: 2,
    // Build dist/ once for the run; fail the run if a test leaves a temporary entry behind.
    globalSetup: ['test/global/temp-dirs.ts', 'test/global/build-dist.ts'],
  },
});
