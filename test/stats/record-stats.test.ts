import { afterEach, beforeEach, describe, expect, it } from 'vitest';
import { recordStats } from '../../src/stats/record-stats.js';
import type { StatsRow } from '../../src/stats/schema.js';
import { MD5, row, tempDb } from './helpers.js';

let t: ReturnType<typeof tempDb>;
beforeEach(() => {
  t = tempDb();
});
afterEach(() => t.cleanup());

const count = () => (t.db.prepare('SELECT COUNT(*) AS n FROM stats').get() as { n: number }).n;

describe('recordStats', () => {
  it('writes one row per node with every column, booleans as 0/1', () => {
    recordStats(t.db, [
      row(),
      row({
        hostname: 'gdx-122.orsay.grid5000.fr',
        success: false,
        anonymous_env: true,
        md5: '',
        error: 'KO, really',
      }),
    ]);
    expect(t.db.prepare('SELECT * FROM stats ORDER BY id').all()).toEqual([
      {
        id: 1,
        wid: 'D-1',
        operation: 'deploy',
        user: 'gsimo',
        hostname: 'gdx-121.orsay.grid5000.fr',
        step1: 'SetDeploymentEnvUntrusted',
        step2: 'BroadcastEnvKastafior',
        step3: 'BootNewEnvClassical',
        timeout_step1: 550,
        timeout_step2: 600,
        timeout_step3: 400,
        retry_step1: 0,
        retry_step2: 0,
        retry_step3: 0,
        start: 1302763272,
        step1_duration: 107,
        step2_duration: 50,
        step3_duration: 0,
        env: 'squeeze-x64-base:5',
        anonymous_env: 0,
        md5: MD5,
        success: 1,
        error: '',
        // Written by the store's trigger: nothing in this row needs CSV quoting.
        csv_plain: 1,
      },
      {
        id: 2,
        wid: 'D-1',
        operation: 'deploy',
        user: 'gsimo',
        hostname: 'gdx-122.orsay.grid5000.fr',
        step1: 'SetDeploymentEnvUntrusted',
        step2: 'BroadcastEnvKastafior',
        step3: 'BootNewEnvClassical',
        timeout_step1: 550,
        timeout_step2: 600,
        timeout_step3: 400,
        retry_step1: 0,
        retry_step2: 0,
        retry_step3: 0,
        start: 1302763272,
        step1_duration: 107,
        step2_duration: 50,
        step3_duration: 0,
        env: 'squeeze-x64-base:5',
        anonymous_env: 1,
        md5: '',
        success: 0,
        error: 'KO, really',
        // The comma needs quoting: exports encode this row value by value.
        csv_plain: 0,
      },
    ]);
  });

  it('does nothing for no rows', () => {
    recordStats(t.db, []);
    expect(count()).toBe(0);
  });

  it('writes all rows of an operation or none', () => {
    expect(() => recordStats(t.db, [row(), row({ hostname: 'n-2', timeout_step1: -1 })])).toThrow();
    expect(count()).toBe(0);
  });

  const bad: Array<[string, Partial<StatsRow>, string]> = [
    ['an unknown operation', { operation: 'kexec' as never }, "unknown operation 'kexec'"],
    [
      'a negative timeout',
      { timeout_step2: -5 },
      'timeout_step2 must be a non-negative number of seconds (got -5)',
    ],
    [
      'a duration that is not a number',
      { step1_duration: Number.NaN },
      'step1_duration must be a non-negative number of seconds (got NaN)',
    ],
    [
      'a start that is not a number',
      { start: '1302763272' as never },
      'start must be a non-negative number of seconds (got 1302763272)',
    ],
    ['a non-string error', { error: undefined as never }, 'error must be a string'],
    ['an empty wid', { wid: '' }, 'wid, user and hostname are required'],
    [
      'a success that is not a boolean',
      { success: 1 as never },
      'success and anonymous_env must be booleans',
    ],
    [
      'an md5 that is not 32 hex digits',
      { md5: 'D41D8CD98F00B204E9800998ECF8427E' },
      "md5 must be 32 lowercase hex digits (got 'D41D8CD98F00B204E9800998ECF8427E')",
    ],
    [
      'a successful deployment without its md5',
      { md5: '' },
      'a successful deploy row must carry the md5 of the deployed image',
    ],
  ];
  it.each(bad)('refuses %s', (_what, over, message) => {
    expect(() => recordStats(t.db, [row(over)])).toThrow(
      expect.objectContaining({
        code: 'KAPLOY_INTERNAL',
        message: `invalid statistics row for node ${over.hostname ?? 'gdx-121.orsay.grid5000.fr'}: ${message}`,
      }),
    );
    expect(count()).toBe(0);
  });

  it('rounds seconds to whole seconds (timeouts computed from expressions)', () => {
    recordStats(t.db, [row({ timeout_step3: 552.6, step2_duration: 49.4 })]);
    expect(t.db.prepare('SELECT timeout_step3, step2_duration FROM stats').get()).toEqual({
      timeout_step3: 553,
      step2_duration: 49,
    });
  });

  it('is a savepoint inside a caller transaction: the caller rolling back removes the rows', () => {
    expect(() =>
      t.db.transaction(() => {
        recordStats(t.db, [row()]);
        throw new Error('caller failed');
      })(),
    ).toThrow('caller failed');
    expect(count()).toBe(0);
    t.db.transaction(() => recordStats(t.db, [row()]))();
    expect(count()).toBe(1);
  });

  it('accepts failed deployments and reboots without an md5', () => {
    recordStats(t.db, [row({ success: false, md5: '' }), row({ operation: 'reboot', md5: '', env: '' })]);
    expect(count()).toBe(2);
  });
});
