import { KaployError } from '../../common/errors.js';
import { type NodeConfig, nodeIndex } from '../../common/site-config.js';
import type { AuthenticatedUser } from '../auth/authenticate.js';
import { checkRights } from '../rights/check.js';
import type { EngineContext } from '../server/context.js';
import { withStatus } from '../server/http-errors.js';

/**
 * The site's nodes an operation asks for, checked before anything is touched: every node must be
 * known (404) and the caller must hold a right on every one (403; reboots, power and consoles need
 * a right on the node, whatever the partition). Duplicates are folded, order kept.
 */
export function targetNodes(
  ctx: EngineContext,
  caller: AuthenticatedUser,
  names: readonly string[],
  what: string,
): NodeConfig[] {
  const index = nodeIndex(ctx.config);
  const unique = [...new Set(names)];
  const unknown = unique.filter((n) => !index.has(n));
  if (unknown.length > 0) {
    throw withStatus(
      new KaployError(
        'KAPLOY_NODE_LIST',
        `unknown node(s) on site ${ctx.config.site}: ${unknown.join(', ')}`,
        {
          node: unknown[0],
        },
      ),
      404,
    );
  }
  // Site admins (the OAR hooks' restore, site staff) act on every node, as Kadeploy's admins do.
  const { denied } = caller.admin ? { denied: [] as string[] } : checkRights(ctx.store, caller.name, unique);
  if (denied.length > 0) {
    throw withStatus(
      new KaployError(
        'KAPLOY_RIGHTS',
        `You do not have the right to ${what} the node(s) ${denied.join(', ')}; nothing was done`,
        { node: denied[0] },
      ),
      403,
    );
  }
  return unique.map((n) => index.get(n) as NodeConfig);
}

/** Nodes whose last operation is still running (Kadeploy: state *ing, younger than 900 s). */
const BUSY_WINDOW_MS = 900_000;

/** Splits off busy nodes (without --force), as deployments do; refuses when none is left. */
export function dropBusy(
  ctx: EngineContext,
  nodes: readonly NodeConfig[],
  force: boolean,
): { kept: NodeConfig[]; discarded: string[] } {
  if (force) return { kept: [...nodes], discarded: [] };
  const now = Date.now();
  const busy = nodes.filter((n) => {
    const row = ctx.store.nodes.get(n.name);
    return row !== undefined && /ing$/.test(row.state) && now - row.updated < BUSY_WINDOW_MS;
  });
  const kept = nodes.filter((n) => !busy.includes(n));
  if (kept.length === 0) {
    throw new KaployError(
      'KAPLOY_NOTHING_MODIFIED',
      `every node is already involved in an operation (use --force): ${busy.map((n) => n.name).join(', ')}`,
    );
  }
  return { kept, discarded: busy.map((n) => n.name) };
}
