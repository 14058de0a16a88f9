import { mkdtempSync, rmSync } from 'node:fs';
import os from 'node:os';
import path from 'node:path';
import { afterEach, beforeEach, describe, expect, it } from 'vitest';
import { DEFAULT_WAIT_AFTER_START_S, waitRunning } from '../../../src/client/oargrid/grid-status.js';
import { GridStore } from '../../../src/client/oargrid/grid-store.js';
import type { OargridConfig } from '../../../src/client/oargrid/oargrid-config.js';
import type { SiteRunner } from '../../../src/client/oargrid/site-runner.js';

/** oargridstat -w's default bound, on a fake clock: the reservation's start (or now) plus 10 min. */
let dir: string;
let store: GridStore;
const config: OargridConfig = {
  aliases: new Map([['a', { alias: 'a', site: 'sa' }]]),
  sites: new Map([['sa', { kind: 'local' }]]),
  commandTimeoutMs: 5000,
};
/** OAR answering `state` for every job, counting the questions. */
function oar(state: string) {
  const calls = { n: 0 };
  const run: SiteRunner = async (argv) => {
    calls.n++;
    const id = argv[2] as string;
    return {
      code: 0,
      stdout: JSON.stringify({ [id]: { state, Job_Id: Number(id) } }),
      stderr: '',
      timedOut: false,
    } as never;
  };
  return { calls, runnerFor: () => run };
}

beforeEach(() => {
  dir = mkdtempSync(path.join(os.tmpdir(), 'kaploy-grid-wait-'));
  store = GridStore.open(dir);
});
afterEach(() => {
  store.close();
  rmSync(dir, { recursive: true, force: true });
});

function grid(startAt: number): number {
  const id = store.createGrid({ submittedAt: 0, startAt, walltimeS: 3600, types: [], description: 'a' }, [
    { site: 'sa', aliases: ['a'] },
  ]);
  store.setSiteJob(id, 'sa', 'reserved', { batchId: 7 });
  return id;
}

describe('oargridstat -w without --max-wait', () => {
  it.each([
    ['a reservation starting in an hour waits until 10 min past its start', 3_600_000],
    ['one started already waits 10 min from now', -3_600_000],
  ])('%s', async (_, offset) => {
    const clock = { t: 1_000_000_000_000 };
    const startAt = clock.t + offset;
    const id = grid(startAt);
    const { calls, runnerFor } = oar('Waiting');
    const deps = { config, store, runnerFor };
    const err = await waitRunning(id, deps, {
      pollMs: 0,
      now: () => {
        clock.t += 60_000; // each look costs a minute of the fake clock
        return clock.t;
      },
    }).catch((e: unknown) => e);
    expect(err).toMatchObject({ code: 'KAPLOY_OAR' });
    expect(String((err as Error).message)).toContain('sa job 7 Waiting');
    const bound = Math.max(startAt, 1_000_000_000_000 + 60_000) + DEFAULT_WAIT_AFTER_START_S * 1000;
    // It gave up at the bound, not before, and not long after (one poll a fake minute).
    expect(clock.t).toBeGreaterThanOrEqual(bound);
    expect(clock.t).toBeLessThan(bound + 3 * 60_000);
    expect(calls.n).toBeGreaterThan(5);
  });

  it('a job running ends the wait at once', async () => {
    const id = grid(Date.now());
    const { calls, runnerFor } = oar('Running');
    await waitRunning(id, { config, store, runnerFor }, { pollMs: 0 });
    expect(calls.n).toBe(1);
  });
});
