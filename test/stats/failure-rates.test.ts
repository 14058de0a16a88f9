import { afterEach, beforeEach, describe, expect, it } from 'vitest';
import { failureRates, formatFailureRate } from '../../src/stats/failure-rates.js';
import { parseStatsQuery, type RawStatsQuery } from '../../src/stats/query.js';
import { recordStats } from '../../src/stats/record-stats.js';
import { row, seedKnownOperations, tempDb } from './helpers.js';

let t: ReturnType<typeof tempDb>;
beforeEach(() => {
  t = tempDb();
  seedKnownOperations(t.db);
  // gdx-7: 7 deployments, 1 failed -> 14.29%; gdx-8: 3 deployments, 2 failed -> 66.67%.
  recordStats(
    t.db,
    Array.from({ length: 7 }, (_, i) =>
      row({
        wid: `D-7${i}`,
        hostname: 'gdx-7.orsay.grid5000.fr',
        start: 1302800000 + i,
        ...(i === 3 ? { success: false, md5: '' } : {}),
      }),
    ),
  );
  recordStats(t.db, [
    row({ wid: 'D-80', hostname: 'gdx-8.orsay.grid5000.fr', start: 1302800100, success: false, md5: '' }),
    row({ wid: 'D-81', hostname: 'gdx-8.orsay.grid5000.fr', start: 1302800200, success: false, md5: '' }),
    row({ wid: 'D-82', hostname: 'gdx-8.orsay.grid5000.fr', start: 1302800300 }),
  ]);
});
afterEach(() => t.cleanup());

const rates = (raw: RawStatsQuery) =>
  failureRates(t.db, parseStatsQuery({ kind: 'failure-rate', ...raw })).map(formatFailureRate);

describe('failure rates (-b, -c)', () => {
  it('prints node: rate% for every node, by node name, over every operation', () => {
    expect(rates({})).toEqual([
      'gdx-121.orsay.grid5000.fr: 0.00%',
      'gdx-122.orsay.grid5000.fr: 100.00%',
      'gdx-5.orsay.grid5000.fr: 50.00%',
      'gdx-7.orsay.grid5000.fr: 14.29%',
      'gdx-8.orsay.grid5000.fr: 66.67%',
    ]);
  });

  it('counts operations and failures', () => {
    expect(
      failureRates(t.db, parseStatsQuery({ kind: 'failure-rate', node: 'gdx-8.orsay.grid5000.fr' })),
    ).toEqual([
      { node: 'gdx-8.orsay.grid5000.fr', rate: expect.closeTo(66.6667, 4), operations: 3, failures: 2 },
    ]);
  });

  it('applies the filters: operation, nodes, dates', () => {
    expect(
      rates({ operation: 'deploy', node: ['gdx-5.orsay.grid5000.fr', 'gdx-121.orsay.grid5000.fr'] }),
    ).toEqual(['gdx-121.orsay.grid5000.fr: 0.00%', 'gdx-5.orsay.grid5000.fr: 100.00%']);
    expect(rates({ from: '1302800100' })).toEqual(['gdx-8.orsay.grid5000.fr: 66.67%']);
    expect(rates({ to: '1302763272' })).toEqual([
      'gdx-121.orsay.grid5000.fr: 0.00%',
      'gdx-122.orsay.grid5000.fr: 100.00%',
    ]);
  });

  it('-c RATE keeps the nodes at or above RATE', () => {
    expect(rates({ min_rate: '50' })).toEqual([
      'gdx-122.orsay.grid5000.fr: 100.00%',
      'gdx-5.orsay.grid5000.fr: 50.00%',
      'gdx-8.orsay.grid5000.fr: 66.67%',
    ]);
    expect(rates({ min_rate: '14' })).toHaveLength(4);
    expect(rates({ min_rate: '15' })).toHaveLength(3);
    expect(rates({ min_rate: '0' })).toHaveLength(5);
    expect(rates({ min_rate: '100' })).toEqual(['gdx-122.orsay.grid5000.fr: 100.00%']);
  });

  it('is empty when nothing matches', () => {
    expect(rates({ wid: 'none' })).toEqual([]);
  });
});
