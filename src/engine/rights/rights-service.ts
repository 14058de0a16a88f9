import type { RightRow } from '../../api/rights.js';
import { KaployError } from '../../common/errors.js';
import { nodeIndex } from '../../common/site-config.js';
import type { AuthenticatedUser } from '../auth/authenticate.js';
import type { EngineContext } from '../server/context.js';
import { hasRight } from './check.js';

/** karights3: admins grant and revoke; revoking ends the user's operations on those nodes. */
function assertAdmin(caller: AuthenticatedUser): void {
  if (!caller.admin)
    throw new KaployError('KAPLOY_RIGHTS', 'only site administrators can change rights (karights3 -a/-d)');
}

export function listRights(
  ctx: EngineContext,
  caller: AuthenticatedUser,
  opts: { user?: string; nodes?: string[] },
): RightRow[] {
  // A user may read their own rights; everyone's are for admins.
  const user = opts.user ?? (caller.admin ? undefined : caller.name);
  if (user !== undefined && user !== caller.name && !caller.admin) {
    throw new KaployError('KAPLOY_RIGHTS', `only site administrators can read the rights of user ${user}`);
  }
  return ctx.store.rights.list({
    ...(user !== undefined ? { user } : {}),
    ...(opts.nodes ? { nodes: opts.nodes } : {}),
  });
}

export function addRights(
  ctx: EngineContext,
  caller: AuthenticatedUser,
  opts: { user: string; nodes: string[]; partitions: string[]; overwrite?: boolean; job?: number },
): { added: number; cancelled: string[] } {
  assertAdmin(caller);
  let cancelled: string[] = [];
  const added = ctx.store.transaction(() => {
    if (opts.overwrite) for (const n of opts.nodes) ctx.store.rights.remove(opts.user, n);
    return ctx.store.rights.add(
      opts.nodes.flatMap((node) =>
        opts.partitions.map((partition) => ({
          user: opts.user,
          node,
          partition,
          ...(opts.job !== undefined ? { job: opts.job } : {}),
        })),
      ),
    );
  });
  if (opts.overwrite) cancelled = cancelLost(ctx, opts.user, opts.nodes);
  return { added, cancelled };
}

/**
 * Removes rights; partitions undefined or ['*'] removes every partition. `upToJob` (an OAR job's
 * end): only the rights granted by hand or for that job or an older one.
 */
export function removeRights(
  ctx: EngineContext,
  caller: AuthenticatedUser,
  opts: { user: string; nodes: string[]; partitions?: string[]; upToJob?: number },
): { removed: number; cancelled: string[] } {
  assertAdmin(caller);
  const parts = !opts.partitions || opts.partitions.includes('*') ? [undefined] : opts.partitions;
  const removed = ctx.store.transaction(() => {
    let n = 0;
    for (const node of opts.nodes)
      for (const p of parts) n += ctx.store.rights.remove(opts.user, node, p, opts.upToJob);
    return n;
  });
  return { removed, cancelled: cancelLost(ctx, opts.user, opts.nodes) };
}

/** Ends the user's running operations on the nodes where no right is left. */
function cancelLost(ctx: EngineContext, user: string, nodes: readonly string[]): string[] {
  const candidates = nodes.includes('*') ? [...nodeIndex(ctx.config).keys()] : nodes;
  const lost = candidates.filter((n) => !hasRight(ctx.store, user, n));
  if (lost.length === 0) return [];
  ctx.logger.info({ user, nodes: lost }, 'rights revoked: cancelling the user operations on these nodes');
  return ctx.operations.cancelFor(user, lost, 'rights revoked');
}
