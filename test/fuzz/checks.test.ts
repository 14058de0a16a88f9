import { describe, expect, it } from 'vitest';
import { createTally } from '../../scripts/reliability/fuzz/checks.mjs';
import { createRng, MAX_INPUT, mutateMany } from '../../scripts/reliability/fuzz/grammar.mjs';
import { PARSER_SUITES } from '../../scripts/reliability/fuzz/suites.mjs';
import { KaployError } from '../../src/common/errors.js';
import { srcApi } from './api.js';

describe('the fuzz library', () => {
  it('is deterministic: the same seed gives the same inputs', () => {
    const gen = (seed: number) => {
      const rng = createRng(seed);
      return Array.from({ length: 50 }, () => mutateMany(rng, 'node-[1-4].site'));
    };
    expect(gen(42)).toEqual(gen(42));
    expect(gen(42)).not.toEqual(gen(43));
    expect(gen(42).every((s) => s.length <= MAX_INPUT)).toBe(true);
  });

  it('finds a parser that accepts garbage, one that crashes and one that refuses valid input', () => {
    const suite = PARSER_SUITES['node names'];
    if (suite === undefined) throw new Error('no node names suite');
    const lax = createTally(1);
    suite(createRng(1), 100, { ...srcApi, expandRange: (s: string) => [s] }, lax);
    expect(lax.failures.some((f) => f.why.startsWith('garbage accepted'))).toBe(true);

    const crashing = createTally(1);
    suite(
      createRng(1),
      100,
      {
        ...srcApi,
        expandRange: () => {
          throw new TypeError('boom');
        },
      },
      crashing,
    );
    expect(crashing.internalErrors).toBeGreaterThan(0);
    expect(crashing.failures[0]?.why).toBe('crash: TypeError: boom');

    const strict = createTally(1);
    suite(
      createRng(1),
      100,
      {
        ...srcApi,
        expandRange: () => {
          throw new KaployError('KAPLOY_NODE_LIST', 'no');
        },
      },
      strict,
    );
    expect(strict.failures.some((f) => f.why.startsWith('valid input refused'))).toBe(true);
    expect(strict.internalErrors).toBe(0);
  });
});
