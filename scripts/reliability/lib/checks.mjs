// Outcome checks shared by the scenarios: operations that never end (stuck nodes), nodes really
// installed with what the engine reported, exit codes inside the README's table.
import { readFileSync } from 'node:fs';
import { setTimeout as sleep } from 'node:timers/promises';

const FINAL_NODE = new Set(['ok', 'ko', 'cancelled', 'breakpoint']);
const LIVE_OP = new Set(['preparing', 'queued', 'running']);

/** The README's exit codes; any other code from a program is an internal error. */
export const EXIT_CODES = new Set([0, 1, 2, 3, 4, 5, 7, 8, 9, 130]);

/**
 * Waits (up to `ms`) until no deployment, reboot or power operation of the site is still live, as
 * an admin sees them; returns the nodes of operations still live then, and of finished operations
 * whose nodes are not in a final state: the stuck nodes.
 */
export async function settle(site, { ms = 120_000, signal } = {}) {
  const admin = site.client('kaadmin');
  const end = Date.now() + ms;
  try {
    for (;;) {
      const ops = [];
      for (const p of ['/deployment', '/reboot', '/power'])
        ops.push(...(await admin.request('GET', p, { timeoutMs: 10_000, signal })));
      const live = ops.filter((o) => LIVE_OP.has(o.status));
      if (live.length === 0 || Date.now() > end) {
        const stuck = new Set();
        for (const o of ops)
          for (const [n, v] of Object.entries(o.nodes ?? {}))
            if (LIVE_OP.has(o.status) || !FINAL_NODE.has(v.state)) stuck.add(`${o.wid}:${n}`);
        return [...stuck];
      }
      await sleep(250, undefined, { signal });
    }
  } finally {
    await admin.close();
  }
}

/** True when `node` runs `envId` from its deploy partition, as a node reported OK must. */
export function installedWith(site, statuses, node, envId) {
  const st = statuses.find((s) => s.name === node);
  if (st?.state !== 'installed' || st.power !== 'on') return false;
  try {
    return new RegExp(`^ID=${envId}$`, 'm').test(readFileSync(site.disk(node, 3, 'etc/os-release'), 'utf8'));
  } catch {
    return false;
  }
}

/** Nodes the virtual site still shows between two states (booting): not final on the hardware side. */
export const booting = (statuses) => statuses.filter((s) => s.state === 'booting').map((s) => s.name);
