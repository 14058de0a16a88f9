import type { Io } from '../deploy/follow.js';
import { fanOut, type SiteRun } from '../grid/fan-out.js';
import { gridPlan } from '../grid/grid-plan.js';
import { requireSomeSite } from '../grid/grid-result.js';
import type { GridServer } from '../grid/grid-servers.js';
import { type KanodesOptions, runKanodes } from './nodes.js';

/**
 * kanodes3 -M: the same view from every configured server through the grid fan-out, each site's
 * lines prefixed with its name; with -m/-f each site is asked about the nodes it serves (gridPlan:
 * unknown or doubly served nodes refused before anything is asked). A site that fails prints its
 * error line; the others still answer. Throws only when no site answered.
 */
export async function runKanodesGrid(
  servers: readonly GridServer[],
  o: Omit<KanodesOptions, 'wid'>,
  io: Io,
  signal: AbortSignal,
): Promise<SiteRun<true>[]> {
  const plan = await gridPlan(servers, signal, o.nodes ? { nodes: o.nodes } : {});
  try {
    const runs = await fanOut(plan, { io, signal }, async (site) => {
      await runKanodes(
        site.client,
        { mode: o.mode, ...(o.nodes ? { nodes: site.nodes } : {}) },
        site.io.out,
        site.signal,
      );
      return true as const;
    });
    requireSomeSite(runs, 'answered');
    return runs;
  } finally {
    await plan.close();
  }
}
