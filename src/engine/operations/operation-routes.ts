import type { FastifyInstance } from 'fastify';
import type { AuthenticatedUser } from '../auth/authenticate.js';
import type { EngineContext } from '../server/context.js';
import { requestSignal } from '../server/request-signal.js';
import type { BaseOutcome, OperationPlan, PlanKind } from './operation-kind.js';
import type { OperationService, Preparation } from './operation-service.js';

/** Where a kind's routes live: `/deployment`, `/reboot`, `/power`. */
export interface OperationPath<O extends BaseOutcome> {
  kind: PlanKind<O>;
  path: string;
}

/** What differs between the route families of two kinds: where it starts, its body, its plan. */
export interface OperationRoute<B, O extends BaseOutcome> extends OperationPath<O> {
  /** How it starts (kapower3 has always PUT /power). */
  method: 'POST' | 'PUT';
  body: object;
  bodyLimit?: number;
  /** `prep`: the operation's log while its checks run, and how they let the caller go early. */
  plan(
    caller: AuthenticatedUser,
    body: B,
    signal: AbortSignal,
    prep: Preparation,
  ): OperationPlan<O> | Promise<OperationPlan<O>>;
  /** `?dry_run=true`: checks everything, touches nothing, answers this instead of starting. */
  dryRun?(caller: AuthenticatedUser, body: B, signal: AbortSignal): Promise<unknown>;
}

/** The `:wid` parameter of a kind's routes: its prefix and a uuid. */
export function widParams(kind: PlanKind<BaseOutcome>) {
  return {
    type: 'object',
    required: ['wid'],
    properties: { wid: { type: 'string', pattern: `^${kind.prefix}-[0-9a-f-]{36}$` } },
  } as const;
}

const LOG_QUERY = {
  type: 'object',
  additionalProperties: false,
  properties: {
    from: { type: 'integer', minimum: 0 },
    verbosity: { type: 'integer', minimum: 0, maximum: 5 },
    debug: { type: 'boolean' },
    // Long poll: with no new line yet, answer at the next one (or the end) within this.
    wait_ms: { type: 'integer', minimum: 0, maximum: 30000 },
  },
} as const;

export const DRY_RUN_QUERY = {
  type: 'object',
  additionalProperties: false,
  properties: { dry_run: { type: 'boolean' } },
} as const;

/**
 * The routes of one kind of operation, the same for every kind: start (201 `{wid, discarded}`),
 * then the routes that follow it (operationFollowRoutes). POST /deployment has its own start
 * handler (operations/deployment.ts) so that its walk to a node's command stays in one file.
 */
export function operationRoutes<B, O extends BaseOutcome>(
  app: FastifyInstance,
  ctx: EngineContext,
  svc: () => OperationService,
  route: OperationRoute<B, O>,
): void {
  const { kind, path } = route;
  app.route<{ Body: B; Querystring: { dry_run?: boolean } }>({
    method: route.method,
    url: path,
    schema: { body: route.body, ...(route.dryRun ? { querystring: DRY_RUN_QUERY } : {}) },
    ...(route.bodyLimit ? { bodyLimit: route.bodyLimit } : {}),
    handler: async (request, reply) => {
      const signal = requestSignal(ctx, reply);
      // Validated by `route.body` (fastify's inferred type for a generic body is not B itself).
      const body = request.body as B;
      if (route.dryRun && request.query.dry_run) return route.dryRun(request.user, body, signal);
      // The checks run with the operation's log open: a long image download answers with the wid
      // before it ends, and the client follows its progress in the log.
      const started = await svc().prepare(
        kind,
        request.user.name,
        async (prep) => route.plan(request.user, body, prep.signal, prep),
        signal,
      );
      return reply.code(201).send(started);
    },
  });

  operationFollowRoutes(app, ctx, svc, route);
}

/**
 * GET <path> (the caller's operations), GET <path>/:wid (status), GET <path>/:wid/logs (at the
 * reader's verbosity; `wait_ms` makes it a long poll), DELETE <path>/:wid (cancel). The shapes
 * src/client/deploy/follow.ts reads for every kind.
 */
export function operationFollowRoutes<O extends BaseOutcome>(
  app: FastifyInstance,
  ctx: EngineContext,
  svc: () => OperationService,
  { kind, path }: OperationPath<O>,
): void {
  const params = widParams(kind);
  app.get(path, async (request) => svc().list(request.user, kind));

  app.get<{ Params: { wid: string } }>(`${path}/:wid`, { schema: { params } }, async (request) =>
    svc().status(request.user, kind, request.params.wid),
  );

  app.get<{
    Params: { wid: string };
    Querystring: { from?: number; verbosity?: number; debug?: boolean; wait_ms?: number };
  }>(`${path}/:wid/logs`, { schema: { params, querystring: LOG_QUERY } }, async (request, reply) =>
    svc().logsWait(
      request.user,
      kind,
      request.params.wid,
      {
        from: request.query.from ?? 0,
        verbosity: request.query.verbosity ?? 3,
        debug: request.query.debug === true,
        waitMs: request.query.wait_ms ?? 0,
      },
      requestSignal(ctx, reply),
    ),
  );

  app.delete<{ Params: { wid: string } }>(`${path}/:wid`, { schema: { params } }, async (request) => {
    svc().cancel(request.user, kind, request.params.wid);
    return { cancelled: request.params.wid };
  });
}
