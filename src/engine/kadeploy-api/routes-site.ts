import type { FastifyInstance, FastifyRequest } from 'fastify';
import type { RightRow } from '../../api/rights.js';
import { NODE_PATTERN, PARTITION_PATTERN, USER_PATTERN } from '../../api/schemas.js';
import { KaployError } from '../../common/errors.js';
import type { AuthenticatedUser } from '../auth/authenticate.js';
import { addRights, listRights, removeRights } from '../rights/rights-service.js';
import { assertSiteNodes } from '../rights/validate.js';
import type { EngineContext } from '../server/context.js';
import { assertNative, entry, mergedParams, optString, refuseUnknown, stringList, toggle } from './params.js';

/**
 * /rights in Kadeploy's shape
 * (`{user: {node: [partitions]}}`), through the engine's rights service: a user reads their own
 * rights, an admin anyone's; only admins grant (POST) and revoke (DELETE).
 */
export function siteRoutes(app: FastifyInstance, ctx: EngineContext): void {
  const rights = (caller: AuthenticatedUser, user?: string, nodes?: string[]) =>
    hashOf(
      listRights(ctx, caller, {
        ...(user !== undefined ? { user } : {}),
        ...(nodes ? { nodes: assertSiteNodes(ctx.config, nodes) } : {}),
      }),
    );
  type P = { Params: { user?: string; node?: string; partition?: string } };
  const params = (required: string[]) => ({
    type: 'object',
    required,
    properties: {
      user: { type: 'string', pattern: USER_PATTERN },
      node: { type: 'string', pattern: NODE_PATTERN },
      partition: { type: 'string', pattern: PARTITION_PATTERN },
    },
  });
  const nodesOf = (request: FastifyRequest<P>) => {
    const p = mergedParams(request.query, request.body);
    const list = [
      ...(stringList(p, 'nodes', 100_000) ?? []),
      ...(request.params.node ? [request.params.node] : []),
    ];
    return list.length > 0 ? list : undefined;
  };
  app.get<P>('/rights', async (request) => rights(request.user, undefined, nodesOf(request)));
  app.get<P>('/rights/:user', { schema: { params: params(['user']) } }, async (request) =>
    rights(request.user, request.params.user, nodesOf(request)),
  );
  app.get<P>('/rights/:user/:node', { schema: { params: params(['user', 'node']) } }, async (request) =>
    rights(request.user, request.params.user, nodesOf(request)),
  );

  // karights3 -a: `username` (default the caller), `nodes` (default every node), `partitions` (default every one).
  app.post('/rights', async (request) => {
    const p = mergedParams(request.query, request.body);
    refuseUnknown(p, ['user', 'username', 'nodes', 'partitions', 'overwrite']);
    requireAdmin(request.user);
    const user = optString(p, 'username', 64) ?? request.user.name;
    const nodes = assertSiteNodes(ctx.config, stringList(p, 'nodes', 100_000) ?? ['*']);
    const partitions = stringList(p, 'partitions', 64) ?? ['*'];
    const body = assertNative(RIGHTS_BODY, { user, nodes, partitions });
    const overwrite = toggle(p, 'overwrite');
    const { added } = addRights(ctx, request.user, { ...body, overwrite });
    if (added === 0 && !overwrite)
      throw new KaployError(
        'KAPLOY_NOTHING_MODIFIED',
        `No element has been modified: ${user} already has these rights`,
      );
    return hashOf(nodes.flatMap((node) => partitions.map((partition) => ({ user, node, partition }))));
  });

  // karights3 -d: /rights/:user[/:node[/:partition]], or `nodes` and `partitions` parameters.
  const remove = async (request: FastifyRequest<P>) => {
    const p = mergedParams(request.query, request.body);
    refuseUnknown(p, ['user', 'nodes', 'partitions']);
    requireAdmin(request.user);
    const user = request.params.user as string;
    const nodes = assertSiteNodes(ctx.config, nodesOf(request) ?? ['*']);
    const partitions = request.params.partition
      ? [request.params.partition]
      : (stringList(p, 'partitions', 64) ?? ['*']);
    assertNative(RIGHTS_BODY, { user, nodes, partitions });
    const { removed } = removeRights(ctx, request.user, { user, nodes, partitions });
    if (removed === 0)
      throw new KaployError(
        'KAPLOY_NOTHING_MODIFIED',
        `No element has been modified: ${user} has no such rights`,
      );
    return hashOf(nodes.flatMap((node) => partitions.map((partition) => ({ user, node, partition }))));
  };
  app.delete<P>('/rights/:user', { schema: { params: params(['user']) } }, remove);
  app.delete<P>('/rights/:user/:node', { schema: { params: params(['user', 'node']) } }, remove);
  app.delete<P>(
    '/rights/:user/:node/:partition',
    { schema: { params: params(['user', 'node', 'partition']) } },
    remove,
  );
}

/** The native routes' check, first: a non-admin learns nothing about the site's nodes. */
function requireAdmin(caller: AuthenticatedUser): void {
  if (!caller.admin)
    throw new KaployError('KAPLOY_RIGHTS', 'only site administrators can change rights (karights3 -a/-d)');
}

/** Rights rows as Kadeploy's Rights hash: `{user: {node: [partitions]}}`. */
function hashOf(rows: readonly RightRow[]): Record<string, Record<string, string[]>> {
  const out: Record<string, Record<string, string[]>> = {};
  for (const r of rows)
    entry(
      entry(out, r.user, () => ({})),
      r.node,
      () => [] as string[],
    ).push(r.partition);
  return out;
}

const RIGHTS_BODY = {
  type: 'object',
  required: ['user', 'nodes', 'partitions'],
  properties: {
    user: { type: 'string', pattern: USER_PATTERN },
    nodes: { type: 'array', minItems: 1, maxItems: 100000, items: { type: 'string', pattern: NODE_PATTERN } },
    partitions: {
      type: 'array',
      minItems: 1,
      maxItems: 64,
      items: { type: 'string', pattern: PARTITION_PATTERN },
    },
  },
} as const;
