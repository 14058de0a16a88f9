import { describe, expect, it } from 'vitest';
import { createTally } from '../../scripts/reliability/fuzz/checks.mjs';
import { createRng } from '../../scripts/reliability/fuzz/grammar.mjs';
import { PARSER_SUITES } from '../../scripts/reliability/fuzz/suites.mjs';
import { srcApi } from './api.js';

// Fixed seeds: a failure names its suite and input, and replays with the same seed.
const SEEDS = [1, 2, 3];
const CASES = 400;

describe('grammar-driven fuzz of every parser of outside input', () => {
  for (const [name, suite] of Object.entries(PARSER_SUITES)) {
    it(`${name}: valid inputs accepted and round-tripped, hostile ones refused with a KaployError`, async () => {
      // Nothing a user sends may print on the process's stderr (yaml's warnings did).
      const warnings: string[] = [];
      const onWarning = (w: Error) => warnings.push(w.message);
      process.on('warning', onWarning);
      try {
        for (const seed of SEEDS) {
          const tally = createTally(seed);
          suite(createRng(seed), CASES, srcApi, tally);
          expect(tally.failures, `seed ${seed}`).toEqual([]);
          expect(tally.internalErrors).toBe(0);
          expect(tally.runs).toBeGreaterThanOrEqual(CASES);
          expect(tally.passed).toBe(tally.runs);
        }
        await new Promise((resolve) => setImmediate(resolve)); // warnings are emitted on the next tick
      } finally {
        process.off('warning', onWarning);
      }
      expect(warnings).toEqual([]);
    });
  }
});
