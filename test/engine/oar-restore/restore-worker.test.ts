import { mkdtempSync, rmSync } from 'node:fs';
import os from 'node:os';
import path from 'node:path';
import Database from 'better-sqlite3';
import { afterEach, beforeEach, describe, expect, it } from 'vitest';
import { RESTORE_DEFAULTS, type RestoreConfig } from '../../../src/common/hooks-config.js';
import { silentLogger } from '../../../src/common/logger.js';
import {
  fillArgv,
  fillArgvNodes,
  putBackInService,
  sanitizeReason,
} from '../../../src/engine/oar-restore/node-service.js';
import type { StepOutcome } from '../../../src/engine/oar-restore/restore-plan.js';
import {
  type RestoreGroupFn,
  RestoreWorker,
  restoreRetryDelayMs,
} from '../../../src/engine/oar-restore/restore-worker.js';
import { RestoresRepo } from '../../../src/engine/oar-restore/restores-repo.js';
import { type FakeOar, makeFakeOar } from '../../hook/helpers/fake-oar.js';

let dir: string;
let dbFile: string;
let db: Database.Database;
let fake: FakeOar;
let workers: RestoreWorker[];

beforeEach(() => {
  dir = mkdtempSync(path.join(os.tmpdir(), 'kaploy-oar-worker-'));
  dbFile = path.join(dir, 'store.sqlite');
  db = new Database(dbFile);
  fake = makeFakeOar(dir);
  workers = [];
});
afterEach(async () => {
  for (const w of workers) await w.stop();
  db.close();
  rmSync(dir, { recursive: true, force: true });
});

function config(over: Partial<RestoreConfig> = {}): RestoreConfig {
  return {
    ...RESTORE_DEFAULTS,
    retryDelayMs: 0,
    aliveCommand: [fake.oarnodesetting, '-s', 'Alive', '-h', '{node}'],
    holdCommands: [
      [fake.oarnodesetting, '-n', '-s', 'Absent', '-h', '{node}'],
      [fake.oarnodesetting, '-h', '{node}', '-p', 'kaploy_reason={reason}'],
    ],
    ...over,
  };
}

/** A node's restore in the tests that look at one node at a time. */
type NodeFn = (
  node: string,
  o: { user: string; job: number; production: string; signal: AbortSignal },
) => Promise<StepOutcome>;

/** A group restore made of independent per-node restores, each reported when it ends. */
const each =
  (fn: NodeFn): RestoreGroupFn =>
  async (g, { signal, report }) => {
    await Promise.all(
      g.nodes.map(async (n) =>
        report(n.node, await fn(n.node, { user: n.user, job: n.job, production: g.production, signal })),
      ),
    );
  };

function worker(
  restore: NodeFn | { group: RestoreGroupFn },
  over: Partial<RestoreConfig> = {},
  database = db,
  putBack?: (nodes: string[], signal: AbortSignal) => Promise<{ ok: true } | { ok: false; reason: string }>,
): RestoreWorker {
  const w = new RestoreWorker({
    db: database,
    restoreGroup: typeof restore === 'function' ? each(restore) : restore.group,
    config: config(over),
    logger: silentLogger,
    pollMs: 50,
    ...(putBack ? { putBack } : {}),
  });
  workers.push(w);
  return w;
}

const N = (...i: number[]) => i.map((k) => `node-${k}.vsite`);
const rows = (repo: RestoresRepo) =>
  repo.list().map((r) => `${r.job} ${r.node} ${r.state} ${r.attempts}${r.reason ? ` ${r.reason}` : ''}`);

describe('restore worker', () => {
  it('restores each pending node, then puts it back in service (Alive)', async () => {
    const seen: string[] = [];
    const w = worker(async (node, o) => {
      seen.push(`${node} ${o.user} ${o.job} ${o.production}`);
      return { ok: true };
    });
    w.repo.record({ job: 3, user: 'alice', nodes: N(1, 2), production: 'prod-env' }, 1);
    w.start();
    await w.idle();
    expect(seen.sort()).toEqual(['node-1.vsite alice 3 prod-env', 'node-2.vsite alice 3 prod-env']);
    expect(rows(w.repo)).toEqual(['3 node-1.vsite done 1', '3 node-2.vsite done 1']);
    expect(
      fake
        .calls('oarnodesetting')
        .map((c) => c.join(' '))
        .sort(),
    ).toEqual(['-s Alive -h node-1.vsite', '-s Alive -h node-2.vsite']);
  });
  it('retries a failed node, then holds it out of service with the (sanitised) reason; the others go back', async () => {
    let tries = 0;
    const w = worker(
      async (node) => {
        if (node !== 'node-2.vsite') return { ok: true };
        tries++;
        return { ok: false, reason: "no SSH after reboot; redeploy: 'broadcast' failed" };
      },
      { maxAttempts: 3 },
    );
    w.repo.record({ job: 4, user: 'bob', nodes: N(1, 2, 3), production: 'prod-env' }, 1);
    w.start();
    await w.idle();
    expect(tries).toBe(3);
    expect(rows(w.repo)).toEqual([
      '4 node-1.vsite done 1',
      "4 node-2.vsite failed 3 no SSH after reboot; redeploy: 'broadcast' failed",
      '4 node-3.vsite done 1',
    ]);
    const calls = fake.calls('oarnodesetting').map((c) => c.join(' '));
    expect(calls.filter((c) => c.includes('node-2'))).toEqual([
      '-n -s Absent -h node-2.vsite',
      '-h node-2.vsite -p kaploy_reason=no SSH after reboot_ redeploy: _broadcast_ failed',
    ]);
    expect(calls.filter((c) => c.includes('Alive')).sort()).toEqual([
      '-s Alive -h node-1.vsite',
      '-s Alive -h node-3.vsite',
    ]);
  });
  it('a node restored but not put back (oarnodesetting failing) is not done: retried, then failed', async () => {
    fake.set('oarnodesetting', { stderr: 'Cannot connect to the database', rc: 1 });
    const w = worker(async () => ({ ok: true }), { maxAttempts: 2 });
    w.repo.record({ job: 5, user: 'alice', nodes: N(1), production: 'prod-env' }, 1);
    w.start();
    await w.idle();
    expect(rows(w.repo)).toEqual([
      `5 node-1.vsite failed 2 production restored but putting the node back in service failed: ${fake.oarnodesetting} exit code 1: Cannot connect to the database; holding it out of service also failed: ${fake.oarnodesetting} exit code 1: Cannot connect to the database; ${fake.oarnodesetting} exit code 1: Cannot connect to the database`,
    ]);
  });
  it('a throwing restore counts as a failure', async () => {
    const w = worker(
      async () => {
        throw new Error('deployment service not ready');
      },
      { maxAttempts: 1 },
    );
    w.repo.record({ job: 6, user: 'alice', nodes: N(1), production: 'prod-env' }, 1);
    w.start();
    await w.idle();
    expect(rows(w.repo)).toEqual(['6 node-1.vsite failed 1 deployment service not ready']);
  });
  it('bounds concurrency and never restores one node twice at once', async () => {
    let running = 0;
    let peak = 0;
    const perNode = new Map<string, number>();
    const w = worker(
      async (node) => {
        running++;
        peak = Math.max(peak, running);
        perNode.set(node, (perNode.get(node) ?? 0) + 1);
        await new Promise((r) => setTimeout(r, 5));
        running--;
        return { ok: true };
      },
      { concurrency: 3 },
    );
    w.repo.record({ job: 7, user: 'alice', nodes: N(1, 2, 3, 4, 5, 6, 7, 8), production: 'p' }, 1);
    w.start();
    await w.idle();
    expect(peak).toBe(3);
    expect([...perNode.values()]).toEqual([1, 1, 1, 1, 1, 1, 1, 1]);
    expect(w.repo.list({ state: 'done' })).toHaveLength(8);
  });
  it('survives a restart: restores cut short by a stop are resumed, the attempt not counted', async () => {
    let release: () => void = () => {};
    const w1 = worker(
      (_node, o) =>
        new Promise((resolve) => {
          release = () => resolve({ ok: true });
          o.signal.addEventListener('abort', () => resolve({ ok: false, reason: 'aborted' }));
        }),
    );
    w1.repo.record({ job: 8, user: 'alice', nodes: N(1), production: 'p' }, 1);
    w1.start();
    await new Promise((r) => setTimeout(r, 50));
    expect(rows(w1.repo)).toEqual(['8 node-1.vsite running 1']);
    await w1.stop();
    expect(rows(w1.repo)).toEqual(['8 node-1.vsite pending 0 interrupted by an engine stop']);
    release();
    // A new engine process on the same store file.
    const db2 = new Database(dbFile);
    try {
      const w2 = worker(async () => ({ ok: true }), {}, db2);
      w2.start();
      await w2.idle();
      expect(rows(w2.repo)).toEqual(['8 node-1.vsite done 1']);
      await w2.stop();
    } finally {
      db2.close();
    }
  });
  it('a row left running by a killed engine is pending again at start', async () => {
    const repo = new RestoresRepo(db);
    repo.record({ job: 9, user: 'alice', nodes: N(1), production: 'p' }, 1);
    repo.claim(9, 'node-1.vsite', 2);
    const w = worker(async () => ({ ok: true }));
    w.start();
    await w.idle();
    expect(rows(w.repo)).toEqual(['9 node-1.vsite done 1']);
  });
  it('a node a later job holds by now is not restored: the row is superseded', async () => {
    const restored: string[] = [];
    const w = new RestoreWorker({
      db,
      restoreGroup: each(async (node) => {
        restored.push(node);
        return { ok: true };
      }),
      config: config(),
      logger: silentLogger,
      pollMs: 50,
      newestJobOn: (node) => (node === 'node-1.vsite' ? 12 : undefined),
    });
    workers.push(w);
    w.repo.record({ job: 11, user: 'alice', nodes: N(1, 2), production: 'p' }, 1);
    // Recorded before the later job took node-1 (the repo of the routes checks at record time too).
    expect(rows(w.repo)).toEqual([
      '11 node-1.vsite superseded 0 the node is in job 12 since',
      '11 node-2.vsite pending 0',
    ]);
    db.exec("UPDATE oar_restores SET state = 'pending', reason = '' WHERE node = 'node-1.vsite'");
    w.start();
    await w.idle();
    expect(restored).toEqual(['node-2.vsite']);
    expect(rows(w.repo)).toEqual([
      '11 node-1.vsite superseded 0 the node is in job 12 since',
      '11 node-2.vsite done 1',
    ]);
  });
  it('a retried failed restore runs again (the admin retry)', async () => {
    let ok = false;
    const w = worker(async () => (ok ? { ok: true } : { ok: false, reason: 'no power' }), { maxAttempts: 1 });
    w.repo.record({ job: 10, user: 'alice', nodes: N(1), production: 'p' }, 1);
    w.start();
    await w.idle();
    expect(rows(w.repo)).toEqual(['10 node-1.vsite failed 1 no power']);
    ok = true;
    expect(w.repo.retry({ job: 10 }, 5)).toBe(1);
    w.wake();
    await w.idle();
    expect(rows(w.repo)).toEqual(['10 node-1.vsite done 1']);
  });
  it('waits between attempts: retry delay doubled each time', () => {
    expect([1, 2, 3, 4].map((n) => restoreRetryDelayMs(60_000, n))).toEqual([
      60_000, 120_000, 240_000, 480_000,
    ]);
  });
});

describe('grouped put-back', () => {
  /**
   * node-1 is restored at once; the others only once its put-back has started (and before it
   * ends): they are put back by the next run, together.
   */
  function scenario(over: Partial<RestoreConfig>, fail?: (nodes: string[]) => string | undefined) {
    const runs: string[][] = [];
    let started: () => void = () => {};
    const firstStarted = new Promise<void>((r) => {
      started = r;
    });
    let endFirst: () => void = () => {};
    const firstMayEnd = new Promise<void>((r) => {
      endFirst = r;
    });
    const w = worker(
      async (node) => {
        if (node !== 'node-1.vsite') await firstStarted;
        return { ok: true };
      },
      { maxAttempts: 1, ...over },
      db,
      async (nodes) => {
        runs.push([...nodes].sort());
        if (runs.length === 1) {
          started();
          await firstMayEnd;
        }
        const bad = fail?.(nodes);
        return bad ? { ok: false, reason: bad } : { ok: true };
      },
    );
    return { w, runs, endFirst };
  }

  it('nodes restored while a put-back runs go back together in the next run', async () => {
    const { w, runs, endFirst } = scenario({});
    w.repo.record({ job: 11, user: 'alice', nodes: N(1, 2, 3, 4, 5), production: 'p' }, 1);
    w.start();
    // The 4 others are queued behind the first run; let it end.
    await new Promise((r) => setTimeout(r, 0));
    endFirst();
    await w.idle();
    expect(runs).toEqual([N(1), N(2, 3, 4, 5)]);
    expect(w.repo.list({ state: 'done' })).toHaveLength(5);
  });
  it('at most alive_batch nodes per run; alive_batch 1 is one run per node', async () => {
    const a = scenario({ aliveBatch: 3 });
    a.w.repo.record({ job: 12, user: 'alice', nodes: N(1, 2, 3, 4, 5, 6), production: 'p' }, 1);
    a.w.start();
    await new Promise((r) => setTimeout(r, 0));
    a.endFirst();
    await a.w.idle();
    expect(a.runs).toEqual([N(1), N(2, 3, 4), N(5, 6)]);

    await a.w.stop();
    const b = scenario({ aliveBatch: 1 });
    b.w.repo.record({ job: 13, user: 'alice', nodes: N(1, 2, 3), production: 'p' }, 1);
    b.w.start();
    await new Promise((r) => setTimeout(r, 0));
    b.endFirst();
    await b.w.idle();
    expect(b.runs).toEqual([N(1), N(2), N(3)]);
  });
  it('a grouped run that fails is tried node by node: only the bad node fails', async () => {
    const { w, runs, endFirst } = scenario({}, (nodes) =>
      nodes.includes('node-3.vsite') ? 'unknown host node-3.vsite' : undefined,
    );
    w.repo.record({ job: 14, user: 'alice', nodes: N(1, 2, 3, 4), production: 'p' }, 1);
    w.start();
    await new Promise((r) => setTimeout(r, 0));
    endFirst();
    await w.idle();
    expect(runs).toEqual([N(1), N(2, 3, 4), N(2), N(3), N(4)]);
    expect(rows(w.repo)).toEqual([
      '14 node-1.vsite done 1',
      '14 node-2.vsite done 1',
      '14 node-3.vsite failed 1 production restored but putting the node back in service failed: unknown host node-3.vsite',
      '14 node-4.vsite done 1',
    ]);
  });
  it('one oarnodesetting run for several nodes: the {node} word repeated with its option', async () => {
    expect(fillArgvNodes(['/usr/sbin/oarnodesetting', '-s', 'Alive', '-h', '{node}'], N(1, 2, 3))).toEqual([
      '/usr/sbin/oarnodesetting',
      '-s',
      'Alive',
      ...['-h', 'node-1.vsite', '-h', 'node-2.vsite', '-h', 'node-3.vsite'],
    ]);
    expect(fillArgvNodes(['/usr/local/bin/back', '{node}'], N(1, 2))).toEqual([
      '/usr/local/bin/back',
      'node-1.vsite',
      'node-2.vsite',
    ]);
    const r = await putBackInService(config(), N(1, 2), new AbortController().signal);
    expect(r).toEqual({ ok: true });
    expect(fake.calls('oarnodesetting').map((c) => c.join(' '))).toEqual([
      '-s Alive -h node-1.vsite -h node-2.vsite',
    ]);
  });
});

describe('put-back and hold-out commands', () => {
  it('fills {node} and a sanitised {reason} in each word (no shell)', () => {
    expect(
      fillArgv(['/usr/sbin/oarnodesetting', '-h', '{node}', '-p', 'kaploy_reason={reason}'], {
        node: 'n-1.s',
        reason: "it's `bad`; $(x)\n2",
      }),
    ).toEqual(['/usr/sbin/oarnodesetting', '-h', 'n-1.s', '-p', 'kaploy_reason=it_s _bad__ _(x)_2']);
    expect(sanitizeReason('')).toBe('restore failed');
    expect(sanitizeReason('x'.repeat(500))).toHaveLength(200);
  });
});

describe('restores in groups', () => {
  /** A group restore that records each call's nodes (sorted) and answers with `answer`. */
  function recording(
    answer: (node: string, call: number) => StepOutcome | 'no report' = () => ({ ok: true }),
  ) {
    const calls: { production: string; nodes: string[] }[] = [];
    const group: RestoreGroupFn = async (g, { report }) => {
      calls.push({ production: g.production, nodes: g.nodes.map((n) => n.node).sort() });
      for (const n of g.nodes) {
        const a = answer(n.node, calls.length);
        if (a !== 'no report') report(n.node, a);
      }
    };
    return { calls, group };
  }

  it("a job's nodes are restored by one call, with each node's job and user, and put back by one run", async () => {
    const seen: string[] = [];
    const w = worker({
      group: async (g, { report }) => {
        seen.push(`${g.production}: ${g.nodes.map((n) => `${n.node} ${n.user} ${n.job}`).join(', ')}`);
        report(
          g.nodes.map((n) => n.node),
          { ok: true },
        );
      },
    });
    w.repo.record({ job: 20, user: 'alice', nodes: N(1, 2, 3), production: 'prod-env' }, 1);
    w.start();
    await w.idle();
    expect(seen).toEqual(['prod-env: node-1.vsite alice 20, node-2.vsite alice 20, node-3.vsite alice 20']);
    expect(rows(w.repo)).toEqual([
      '20 node-1.vsite done 1',
      '20 node-2.vsite done 1',
      '20 node-3.vsite done 1',
    ]);
    // Reported restored together: put back by one run.
    expect(fake.calls('oarnodesetting').map((c) => c.join(' '))).toEqual([
      '-s Alive -h node-1.vsite -h node-2.vsite -h node-3.vsite',
    ]);
  });

  it('nodes due together with the same production go together; another production is another group', async () => {
    const { calls, group } = recording();
    const w = worker({ group });
    w.repo.record({ job: 21, user: 'alice', nodes: N(1, 2), production: 'prod-a' }, 1);
    w.repo.record({ job: 22, user: 'bob', nodes: N(3), production: 'prod-a' }, 1);
    w.repo.record({ job: 23, user: 'carol', nodes: N(4, 5), production: 'prod-b' }, 1);
    w.start();
    await w.idle();
    expect(calls.sort((a, b) => a.production.localeCompare(b.production))).toEqual([
      { production: 'prod-a', nodes: N(1, 2, 3) },
      { production: 'prod-b', nodes: N(4, 5) },
    ]);
    expect(w.repo.list({ state: 'done' })).toHaveLength(5);
  });

  it('at most group_max nodes per group', async () => {
    const { calls, group } = recording();
    const w = worker({ group }, { groupMax: 2 });
    w.repo.record({ job: 24, user: 'alice', nodes: N(1, 2, 3, 4, 5), production: 'p' }, 1);
    w.start();
    await w.idle();
    expect(calls.map((c) => c.nodes)).toEqual([N(1, 2), N(3, 4), N(5)]);
    expect(w.repo.list({ state: 'done' })).toHaveLength(5);
  });

  it('concurrency bounds the nodes in flight over all groups', async () => {
    let running = 0;
    let peak = 0;
    const sizes: number[] = [];
    const w = worker(
      {
        group: async (g, { report }) => {
          running += g.nodes.length;
          peak = Math.max(peak, running);
          sizes.push(g.nodes.length);
          await new Promise((r) => setTimeout(r, 5));
          running -= g.nodes.length;
          for (const n of g.nodes) report(n.node, { ok: true });
        },
      },
      { concurrency: 3 },
    );
    w.repo.record({ job: 25, user: 'alice', nodes: N(1, 2, 3, 4, 5, 6, 7, 8), production: 'p' }, 1);
    w.start();
    await w.idle();
    expect(peak).toBe(3);
    expect(sizes[0]).toBe(3);
    expect(sizes.reduce((a, b) => a + b, 0)).toBe(8);
    expect(w.repo.list({ state: 'done' })).toHaveLength(8);
  });

  it("one node's failure fails only that node: retried alone, then held out; the others go back", async () => {
    const { calls, group } = recording((node) =>
      node === 'node-2.vsite'
        ? { ok: false, reason: 'reboot: no SSH; deploy: broadcast failed' }
        : { ok: true },
    );
    const w = worker({ group }, { maxAttempts: 2 });
    w.repo.record({ job: 26, user: 'alice', nodes: N(1, 2, 3), production: 'p' }, 1);
    w.start();
    await w.idle();
    expect(calls.map((c) => c.nodes)).toEqual([N(1, 2, 3), N(2)]);
    expect(rows(w.repo)).toEqual([
      '26 node-1.vsite done 1',
      '26 node-2.vsite failed 2 reboot: no SSH; deploy: broadcast failed',
      '26 node-3.vsite done 1',
    ]);
    const oar = fake.calls('oarnodesetting').map((c) => c.join(' '));
    expect(oar.filter((c) => c.includes('node-2'))).toEqual([
      '-n -s Absent -h node-2.vsite',
      '-h node-2.vsite -p kaploy_reason=reboot: no SSH_ deploy: broadcast failed',
    ]);
    expect(
      oar
        .filter((c) => c.includes('Alive'))
        .flatMap((c) => c.split(' -h ').slice(1))
        .sort(),
    ).toEqual(N(1, 3));
  });

  it('a node the group did not report, or a group that threw, fails only the nodes not reported', async () => {
    const a = recording((node) => (node === 'node-2.vsite' ? 'no report' : { ok: true }));
    const w = worker({ group: a.group }, { maxAttempts: 1 });
    w.repo.record({ job: 27, user: 'alice', nodes: N(1, 2), production: 'p' }, 1);
    w.start();
    await w.idle();
    expect(rows(w.repo)).toEqual([
      '27 node-1.vsite done 1',
      '27 node-2.vsite failed 1 the restore reported no outcome for the node',
    ]);
    await w.stop();

    const w2 = worker(
      {
        group: async (g, { report }) => {
          report(g.nodes[0]?.node ?? '', { ok: true });
          throw new Error('deployment service not ready');
        },
      },
      { maxAttempts: 1 },
    );
    w2.repo.record({ job: 28, user: 'alice', nodes: N(3, 4), production: 'p' }, 1);
    w2.start();
    await w2.idle();
    expect(rows(w2.repo).filter((r) => r.startsWith('28 '))).toEqual([
      '28 node-3.vsite done 1',
      '28 node-4.vsite failed 1 deployment service not ready',
    ]);
  });

  it('a node reported restored is put back at once, without waiting for the rest of its group', async () => {
    let finish: () => void = () => {};
    const rest = new Promise<void>((r) => {
      finish = r;
    });
    const w = worker({
      group: async (g, { report }) => {
        report('node-1.vsite', { ok: true });
        await rest;
        for (const n of g.nodes) report(n.node, { ok: true });
      },
    });
    w.repo.record({ job: 29, user: 'alice', nodes: N(1, 2), production: 'p' }, 1);
    w.start();
    while (w.repo.list({ state: 'done' }).length === 0) await new Promise((r) => setTimeout(r, 10));
    expect(rows(w.repo)).toEqual(['29 node-1.vsite done 1', '29 node-2.vsite running 1']);
    expect(fake.calls('oarnodesetting').map((c) => c.join(' '))).toEqual(['-s Alive -h node-1.vsite']);
    finish();
    await w.idle();
    expect(rows(w.repo)).toEqual(['29 node-1.vsite done 1', '29 node-2.vsite done 1']);
  });

  it('rows superseded by a later job or claimed elsewhere are left out of the group', async () => {
    const { calls, group } = recording();
    const w = new RestoreWorker({
      db,
      restoreGroup: group,
      config: config(),
      logger: silentLogger,
      pollMs: 50,
      newestJobOn: (node) => (node === 'node-1.vsite' ? 31 : undefined),
    });
    workers.push(w);
    w.start();
    // Synchronously (no timer of the worker can run in between): recorded; node-1 given back
    // pending as if recorded before job 31 got it; node-3 claimed by another engine process on
    // the store first.
    w.repo.record({ job: 30, user: 'alice', nodes: N(1, 2, 3), production: 'p' }, 1);
    db.exec("UPDATE oar_restores SET state = 'pending', reason = '' WHERE node = 'node-1.vsite'");
    expect(new RestoresRepo(db).claim(30, 'node-3.vsite', 2)).toBe(true);
    w.wake();
    await w.idle();
    expect(calls.map((c) => c.nodes)).toEqual([N(2)]);
    expect(rows(w.repo)).toEqual([
      '30 node-1.vsite superseded 0 the node is in job 31 since',
      '30 node-2.vsite done 1',
      '30 node-3.vsite running 1',
    ]);
  });

  it('stop mid-group: the operations are cancelled, the nodes not restored yet are pending again, attempt given back', async () => {
    let started: () => void = () => {};
    const running = new Promise<void>((r) => {
      started = r;
    });
    let sawAbort = false;
    const w = worker({
      group: async (g, { signal, report }) => {
        report('node-1.vsite', { ok: true });
        started();
        await new Promise<void>((r) => signal.addEventListener('abort', () => r(), { once: true }));
        sawAbort = true;
        for (const n of g.nodes) report(n.node, { ok: false, reason: 'cancelled' });
      },
    });
    w.repo.record({ job: 32, user: 'alice', nodes: N(1, 2, 3), production: 'p' }, 1);
    w.start();
    await running;
    while (w.repo.list({ state: 'done' }).length === 0) await new Promise((r) => setTimeout(r, 10));
    await w.stop();
    expect(sawAbort).toBe(true);
    expect(rows(w.repo)).toEqual([
      '32 node-1.vsite done 1',
      '32 node-2.vsite pending 0 interrupted by an engine stop',
      '32 node-3.vsite pending 0 interrupted by an engine stop',
    ]);
    // A new worker on the store restores the two left, together.
    const { calls, group } = recording();
    const w2 = worker({ group });
    w2.start();
    await w2.idle();
    expect(calls.map((c) => c.nodes)).toEqual([N(2, 3)]);
    expect(w2.repo.list({ state: 'done' })).toHaveLength(3);
  });
});
