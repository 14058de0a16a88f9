import { KaployError } from '../../common/errors.js';
import type { SitePlan, Sites } from '../deploy/site-plan.js';
import { assignNodes } from './assign-nodes.js';
import { discoverServers, type LiveServer } from './discover-servers.js';
import type { GridServer } from './grid-servers.js';

/**
 * `kadeploy3 -M`'s sites: asks every configured server which nodes it serves and gives each node
 * to the first that does (reference §1). A dropped server's nodes become an unreachable site;
 * nodes no server claims stop the whole run before anything started.
 */
export function gridSites(servers: readonly GridServer[]): Sites {
  return async (o, signal): Promise<SitePlan> => {
    const { live, dropped } = await discoverServers(servers, signal);
    const close = () => Promise.all(live.map((l) => l.client.close())).then(() => undefined);
    try {
      for (const d of dropped) o.warn?.(`server ${d.name} dropped: ${d.reason}`);
      const plan = assignNodes(
        o.nodes,
        live,
        dropped.map((d) => d.name),
      );
      if (plan.leftovers.length > 0) {
        // Kadeploy's wording, kept for scripts that grep it.
        throw new KaployError(
          'KAPLOY_NODE_LIST',
          `The nodes ${plan.leftovers.join(', ')} does not belongs to any server`,
        );
      }
      const byName = new Map<string, LiveServer>(live.map((l) => [l.name, l]));
      const reasons = new Map(dropped.map((d) => [d.name, d.reason]));
      return {
        sites: [
          ...plan.deploy.map((p) => ({
            name: p.server,
            nodes: p.nodes,
            client: byName.get(p.server)?.client,
          })),
          ...plan.unreachable.map((p) => ({
            name: p.server,
            nodes: p.nodes,
            unreachable: `server ${p.server} unreachable: ${reasons.get(p.server) ?? 'dropped'}`,
          })),
        ],
        close,
      };
    } catch (e) {
      await close();
      throw e;
    }
  };
}
