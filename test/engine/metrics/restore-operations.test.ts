import Database from 'better-sqlite3';
import { Registry } from 'prom-client';
import { afterAll, afterEach, describe, expect, it } from 'vitest';
import { RESTORE_DEFAULTS } from '../../../src/common/hooks-config.js';
import { silentLogger } from '../../../src/common/logger.js';
import { OperationMetrics } from '../../../src/engine/metrics/operation-metrics.js';
import { RestoreWorker } from '../../../src/engine/oar-restore/restore-worker.js';

/** OAR restore groups counted as operations of kind `restore`, by outcome. */
describe('restore operations in the metrics', () => {
  const db = new Database(':memory:');
  let w: RestoreWorker | undefined;
  afterEach(async () => {
    await w?.stop();
  });
  afterAll(() => db.close());

  it('one group per job: ok, partial (one node KO), then the KO node retried alone (ko)', async () => {
    const registry = new Registry();
    w = new RestoreWorker({
      db,
      // node-4 never comes back: KO beside node-3, then KO again alone at its second attempt.
      restoreGroup: async (g, { report }) => {
        for (const n of g.nodes)
          report(n.node, n.node === 'node-4' ? { ok: false, reason: 'not back' } : { ok: true });
      },
      config: { ...RESTORE_DEFAULTS, retryDelayMs: 0, maxAttempts: 2 },
      logger: silentLogger,
      pollMs: 20,
      putBack: async () => ({ ok: true }),
      holdOut: async () => ({ ok: true }),
      metrics: new OperationMetrics(registry),
    });
    w.repo.record({ job: 1, user: 'alice', nodes: ['node-1', 'node-2'], production: 'prod' }, 1);
    w.start();
    await w.idle();
    w.repo.record({ job: 2, user: 'bob', nodes: ['node-3', 'node-4'], production: 'prod' }, 2);
    w.wake();
    await w.idle();
    const text = await registry.metrics();
    expect(text).toContain('kaploy_operations_started_total{kind="restore"} 3\n');
    expect(text).toContain('kaploy_operations_ended_total{kind="restore",outcome="ok"} 1\n');
    expect(text).toContain('kaploy_operations_ended_total{kind="restore",outcome="partial"} 1\n');
    expect(text).toContain('kaploy_operations_ended_total{kind="restore",outcome="ko"} 1\n');
  });
});
