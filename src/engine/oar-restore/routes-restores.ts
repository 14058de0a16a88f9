import type { FastifyPluginAsync, FastifyRequest } from 'fastify';
import { RESTORE_STATES, type RestoreState } from '../../api/restores.js';
import { USER_PATTERN } from '../../api/schemas.js';
import { KaployError } from '../../common/errors.js';
import { removeRights } from '../rights/rights-service.js';
import type { EngineContext } from '../server/context.js';
import { RestoresRepo } from './restores-repo.js';

const HOST_PATTERN = '^[A-Za-z0-9][A-Za-z0-9.-]{0,252}$';
const ENV_OR_EMPTY_PATTERN = '^([A-Za-z0-9][A-Za-z0-9._+-]{0,127})?$';

function requireAdmin(request: FastifyRequest): void {
  if (!request.user.admin)
    throw new KaployError('KAPLOY_RIGHTS', 'only site administrators can read or request OAR restores');
}

export interface RestoreRoutesOptions {
  /** Called after rows were added or set pending again (wake the RestoreWorker). */
  onChange?: () => void;
  now?: () => number;
}

/**
 * /restores: the OAR epilogue's durable hand-over of production restores (admin only).
 * `POST /restores {job, user, nodes, production?}` records one pending row per node, idempotent
 * per job (a re-delivered request adds nothing) and answers after the commit; on first delivery it
 * also revokes the user's rights on those nodes (ending their operations), in case the epilogue
 * could not (engine down: see docs/decisions/0004-double-revoke.md). A node that a later job already has (its rights, or its own request) is
 * recorded superseded, and that job's rights are left alone. `GET /restores?state=&job=` lists; `POST /restores/retry {job?, nodes?}`
 * sets failed restores pending again.
 */
export function createRestoreRoutes(
  opts: RestoreRoutesOptions = {},
): FastifyPluginAsync<{ ctx: EngineContext }> {
  const now = opts.now ?? Date.now;
  return async (app, { ctx }) => {
    const repo = new RestoresRepo(ctx.store.db, { newestJobOn: (n) => ctx.store.rights.newestJobOn(n) });
    const nodes = {
      type: 'array',
      minItems: 1,
      maxItems: 100000,
      items: { type: 'string', pattern: HOST_PATTERN },
    } as const;
    const job = { type: 'integer', minimum: 1, maximum: Number.MAX_SAFE_INTEGER } as const;

    app.post<{ Body: { job: number; user: string; nodes: string[]; production?: string } }>(
      '/restores',
      {
        schema: {
          body: {
            type: 'object',
            required: ['job', 'user', 'nodes'],
            additionalProperties: false,
            properties: {
              job,
              user: { type: 'string', pattern: USER_PATTERN },
              nodes,
              production: { type: 'string', pattern: ENV_OR_EMPTY_PATTERN },
            },
          },
        },
      },
      async (request, reply) => {
        requireAdmin(request);
        const b = request.body;
        const unique = [...new Set(b.nodes)];
        const production = b.production || ctx.config.production.environment;
        const added = repo.record({ job: b.job, user: b.user, nodes: unique, production }, now());
        let revoked = 0;
        let cancelled: string[] = [];
        if (added > 0) {
          // Not the rights of a later job of the same user (a request delivered late).
          const r = removeRights(ctx, request.user, { user: b.user, nodes: unique, upToJob: b.job });
          revoked = r.removed;
          cancelled = r.cancelled;
          ctx.logger.info(
            { job: b.job, user: b.user, nodes: unique.length, added, revoked },
            'oar restore requested',
          );
          opts.onChange?.();
        }
        return reply.code(added > 0 ? 201 : 200).send({ job: b.job, added, revoked, cancelled });
      },
    );

    app.get<{ Querystring: { state?: RestoreState; job?: number } }>(
      '/restores',
      {
        schema: {
          querystring: {
            type: 'object',
            additionalProperties: false,
            properties: { state: { type: 'string', enum: [...RESTORE_STATES] }, job },
          },
        },
      },
      async (request) => {
        requireAdmin(request);
        const q = request.query;
        return {
          restores: repo.list({
            ...(q.state ? { state: q.state } : {}),
            ...(q.job !== undefined ? { job: q.job } : {}),
          }),
        };
      },
    );

    app.post<{ Body: { job?: number; nodes?: string[] } }>(
      '/restores/retry',
      {
        schema: {
          body: { type: 'object', additionalProperties: false, properties: { job, nodes } },
        },
      },
      async (request) => {
        requireAdmin(request);
        const b = request.body ?? {};
        const retried = repo.retry(
          { ...(b.job !== undefined ? { job: b.job } : {}), ...(b.nodes ? { nodes: b.nodes } : {}) },
          now(),
        );
        if (retried > 0) opts.onChange?.();
        return { retried };
      },
    );
  };
}

/** The plugin as the engine registers it (ROUTE_PLUGINS); the worker polls the table. */
export const restoreRoutes: FastifyPluginAsync<{ ctx: EngineContext }> = createRestoreRoutes();
