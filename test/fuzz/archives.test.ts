import { describe, expect, it } from 'vitest';
import { createTally } from '../../scripts/reliability/fuzz/checks.mjs';
import { createRng } from '../../scripts/reliability/fuzz/grammar.mjs';
import { archiveSuite, postinstallSuite } from '../../scripts/reliability/fuzz/suites.mjs';
import { srcApi } from './api.js';

describe('fuzz of the image content check', () => {
  it('accepts good tar and dd images, names the problem of empty, truncated, corrupt or mislabelled ones', async () => {
    const tally = createTally(7);
    await archiveSuite(createRng(7), 120, srcApi, tally, AbortSignal.timeout(120_000));
    expect(tally.failures).toEqual([]);
    expect(tally.runs).toBe(120);
    expect(tally.passed).toBe(120);
  });
});

describe('fuzz of postinstall archives as a node runs them', () => {
  it('hostile variable values reach the script byte for byte; a corrupt archive fails the step', async () => {
    const tally = createTally(8);
    await postinstallSuite(createRng(8), 60, srcApi, tally, AbortSignal.timeout(120_000));
    expect(tally.failures).toEqual([]);
    expect(tally.runs).toBe(60);
    expect(tally.passed).toBe(60);
  });
});
