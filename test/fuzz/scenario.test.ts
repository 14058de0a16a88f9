import { describe, expect, it } from 'vitest';
import scenario from '../../scripts/reliability/scenarios/fuzz.mjs';

describe('the reliability scenario fuzz, against the build', () => {
  it('runs every suite, prints its seed, and reports the runner interface', async () => {
    const lines: string[] = [];
    // A few cases per suite: the suites themselves run in the other test files.
    const sizes = { parser: 40, archives: 8, http: 40, kadeploy: 20 };
    const r = await scenario.run({ short: true, seed: 3, sizes, log: (l) => lines.push(l) });
    expect(scenario.name).toBe('fuzz');
    expect(lines[0]).toBe('fuzz: seed 3 (KAPLOY_FUZZ_SEED=3 replays it), short run');
    for (const suite of [
      'node names',
      'descriptions',
      'oarstat',
      'archives',
      'postinstall archives',
      'http',
      'http kadeploy',
    ])
      expect(
        lines.some((l) => l.startsWith(`fuzz: ${suite}: `)),
        suite,
      ).toBe(true);
    expect(r.failures).toEqual([]);
    expect(r).toMatchObject({ dataLost: 0, stuckNodes: 0, internalErrors: 0, seed: 3 });
    expect(r.runs).toBeGreaterThan(7 * 40 + 2 * 8 + 40 + 20);
    expect(r.passed).toBe(r.runs);
  });
});
