import type { FastifyInstance } from 'fastify';
import { KaployError } from '../../common/errors.js';
import { nodeIndex } from '../../common/site-config.js';
import type { EngineContext } from '../server/context.js';
import type { NodeRow } from '../store/nodes-repo.js';
import { mergedParams, refuseUnknown, stringList, toggle } from './params.js';

/** Kadeploy's NodeStatus of one node (doc/api/nodes.api); null for a node never seen. */
interface NodeStatus {
  state: string;
  user: string | null;
  environment: { name: string | null; version: number | null; user: string | null };
}

const NAME = {
  type: 'object',
  required: ['node'],
  properties: { node: { type: 'string', maxLength: 255 } },
} as const;

/** kaploy keeps the last environment as `name:version` beside its owner. */
function statusOf(row: NodeRow | undefined): NodeStatus | null {
  if (!row) return null;
  const at = row.env ? row.env.lastIndexOf(':') : -1;
  const version = at > 0 ? Number(row.env.slice(at + 1)) : Number.NaN;
  return {
    state: row.state,
    user: row.user || null,
    environment: {
      name: row.env ? (at > 0 ? row.env.slice(0, at) : row.env) : null,
      version: Number.isInteger(version) ? version : null,
      user: row.env_user || null,
    },
  };
}

/**
 * GET /nodes[/:node] (kanodes3's status): `{node: {state, user, environment {name, version,
 * user}}}` for every node (or those of `nodes`), one node's status under /nodes/:node; with
 * `list`, the node names only. An unknown node is a 404, as Kadeploy's `error_not_found!`.
 */
export function nodesRoutes(app: FastifyInstance, ctx: EngineContext): void {
  const answer = (query: unknown, one?: string) => {
    const p = mergedParams(query, undefined);
    refuseUnknown(p, ['user', 'nodes', 'list']);
    const site = [...nodeIndex(ctx.config).keys()].sort();
    const asked = [...(one ? [one] : []), ...(stringList(p, 'nodes', 100_000) ?? [])];
    const unknown = asked.find((n) => !site.includes(n));
    if (unknown !== undefined) throw new KaployError('KAPLOY_NOT_FOUND', `File not found: node ${unknown}`);
    const nodes = asked.length > 0 ? asked : site;
    if (toggle(p, 'list')) return nodes;
    const rows = new Map(ctx.store.nodes.list().map((r) => [r.name, r]));
    if (one !== undefined) return statusOf(rows.get(one));
    return Object.fromEntries(nodes.map((n) => [n, statusOf(rows.get(n))]));
  };
  app.get('/nodes', async (request) => answer(request.query));
  app.get<{ Params: { node: string } }>('/nodes/:node', { schema: { params: NAME } }, async (request) =>
    answer(request.query, request.params.node),
  );
}
