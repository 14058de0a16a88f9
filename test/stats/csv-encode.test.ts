import { stringify } from 'csv-stringify/sync';
import { describe, expect, it } from 'vitest';
import { csvField } from '../../src/stats/csv-encode.js';
import { neutraliseFormula } from '../../src/stats/neutralise.js';
import { HOSTILE_TEXTS } from './helpers.js';

// csvField quotes by hand what the export used to hand to csv-stringify: for every text, its output
// must be csv-stringify's (default options) for the neutralised text, byte for byte.
const viaCsvStringify = (s: string) => stringify([[neutraliseFormula(s)]], { eof: false });

describe('csvField', () => {
  it('writes every hostile text as csv-stringify does', () => {
    for (const s of HOSTILE_TEXTS) expect(csvField(s), JSON.stringify(s)).toBe(viaCsvStringify(s));
  });

  it('writes random texts over the characters that matter as csv-stringify does', () => {
    const alphabet = [',', '"', '\r', '\n', '=', '+', '-', '@', '\t', "'", ' ', 'a', '1', '.', 'é', '🙂'];
    // A fixed linear congruential sequence: the same texts every run.
    let seed = 12345;
    const next = () => {
      seed = (seed * 1103515245 + 12345) % 2 ** 31;
      return seed;
    };
    for (let n = 0; n < 5_000; n++) {
      const len = next() % 8;
      let s = '';
      for (let i = 0; i < len; i++) s += alphabet[next() % alphabet.length];
      expect(csvField(s), JSON.stringify(s)).toBe(viaCsvStringify(s));
    }
  });

  it('writes numbers as they are and null as an empty field', () => {
    expect(csvField(-1.5)).toBe('-1.5');
    expect(csvField(42n)).toBe('42');
    expect(csvField(null)).toBe('');
    expect(csvField(undefined)).toBe('');
  });
});
