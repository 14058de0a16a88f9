import { KaployError } from '../../common/errors.js';
import type { ApiClient } from '../http-client.js';
import { assignNodes } from './assign-nodes.js';
import { discoverServers, type LiveServer } from './discover-servers.js';
import type { GridServer } from './grid-servers.js';

/** One site of a -M run: its nodes (server's spelling), and its client, or why it has none. */
export interface GridSite {
  name: string;
  nodes: string[];
  /** Absent when the server could not be used: `unreachable` says why, and its nodes are KO. */
  client?: ApiClient | undefined;
  unreachable?: string;
}

/** The sites of a -M run; `close` releases their clients once the run is over. */
export interface GridPlan {
  sites: GridSite[];
  close(): Promise<void>;
}

/**
 * The sites of a -M run. With `nodes` (kadeploy3, kareboot3, kapower3, kanodes3 -m): every
 * configured server is asked which nodes it serves and each node goes to the server serving it
 * (reference §1); a dropped server's nodes become an unreachable site (warned about); nodes no
 * server claims, or several do, stop the whole run before anything started. Without `nodes`
 * (kastat3, kanodes3, kaenv3 -l): every configured server is a site, a dropped one unreachable.
 */
export async function gridPlan(
  servers: readonly GridServer[],
  signal: AbortSignal,
  o: { nodes?: readonly string[]; warn?: (message: string) => void } = {},
): Promise<GridPlan> {
  const { live, dropped } = await discoverServers(servers, signal, { listNodes: o.nodes !== undefined });
  const close = () => Promise.all(live.map((l) => l.client.close())).then(() => undefined);
  const reasons = new Map(dropped.map((d) => [d.name, d.reason]));
  const unreachable = (name: string) => `server ${name} unreachable: ${reasons.get(name) ?? 'dropped'}`;
  if (o.nodes === undefined) {
    const byName = new Map<string, LiveServer>(live.map((l) => [l.name, l]));
    return {
      sites: servers.map((s) => {
        const c = byName.get(s.name)?.client;
        return c
          ? { name: s.name, nodes: [], client: c }
          : { name: s.name, nodes: [], unreachable: unreachable(s.name) };
      }),
      close,
    };
  }
  try {
    for (const d of dropped) o.warn?.(`server ${d.name} dropped: ${d.reason}`);
    const plan = assignNodes(
      o.nodes,
      live,
      dropped.map((d) => d.name),
    );
    if (plan.ambiguous.length > 0) {
      const list = plan.ambiguous.map((a) => `${a.node} (${a.servers.join(', ')})`).join(', ');
      throw new KaployError(
        'KAPLOY_NODE_LIST',
        `several servers serve the nodes ${list}: a node must belong to one site; fix the sites' configurations or leave the node out`,
      );
    }
    if (plan.leftovers.length > 0) {
      // Kadeploy's wording, kept for scripts that grep it.
      throw new KaployError(
        'KAPLOY_NODE_LIST',
        `The nodes ${plan.leftovers.join(', ')} does not belongs to any server`,
      );
    }
    const byName = new Map<string, LiveServer>(live.map((l) => [l.name, l]));
    return {
      sites: [
        ...plan.deploy.map((p) => ({ name: p.server, nodes: p.nodes, client: byName.get(p.server)?.client })),
        ...plan.unreachable.map((p) => ({
          name: p.server,
          nodes: p.nodes,
          unreachable: unreachable(p.server),
        })),
      ],
      close,
    };
  } catch (e) {
    await close();
    throw e;
  }
}
