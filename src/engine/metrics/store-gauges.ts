import type { Database } from 'better-sqlite3';
import { Gauge, type Registry } from 'prom-client';

/**
 * Nodes by state, read from the store when scraped: one grouped query on the nodes table (one row
 * per state in the answer, whatever the number of nodes), always what kanodes3 would show, also
 * after a restart.
 */
export function registerNodeStates(registry: Registry, db: Database): void {
  const query = db.prepare('SELECT state, COUNT(*) AS n FROM nodes GROUP BY state');
  new Gauge({
    name: 'kaploy_nodes',
    help: 'Nodes of the site by state (kanodes3 states: prod_env, deploying, deployed, deploy_failed, ...).',
    labelNames: ['state'],
    registers: [registry],
    collect() {
      // Reset first: a state no node is in any more disappears rather than keeping its last count.
      this.reset();
      for (const r of query.all() as { state: string; n: number }[]) this.set({ state: r.state }, r.n);
    },
  });
}

/**
 * OAR restores pending (or running) and failed, and the age of the oldest unfinished one, read
 * from the restores table when scraped (its index on state answers both queries).
 */
export function registerRestoreGauges(registry: Registry, db: Database, now: () => number = Date.now): void {
  // A worker made again on the same engine (stopped, then restarted) reads the same table.
  if (registry.getSingleMetric('kaploy_oar_restores')) return;
  const counts = db.prepare(
    "SELECT state, COUNT(*) AS n FROM oar_restores WHERE state IN ('pending','running','failed') GROUP BY state",
  );
  const oldest = db.prepare(
    "SELECT MIN(created) AS created FROM oar_restores WHERE state IN ('pending','running')",
  );
  new Gauge({
    name: 'kaploy_oar_restores',
    help: 'OAR restore requests (one per job and node) by state: pending (waiting or retrying), running, failed (held out of service).',
    labelNames: ['state'],
    registers: [registry],
    collect() {
      const rows = counts.all() as { state: string; n: number }[];
      for (const state of ['pending', 'running', 'failed'])
        this.set({ state }, rows.find((x) => x.state === state)?.n ?? 0);
    },
  });
  new Gauge({
    name: 'kaploy_oar_restore_oldest_age_seconds',
    help: 'Age of the oldest OAR restore request not done yet (pending or running); 0 when none.',
    registers: [registry],
    collect() {
      const { created } = oldest.get() as { created: number | null };
      this.set(created === null ? 0 : Math.max(0, (now() - created) / 1000));
    },
  });
}
