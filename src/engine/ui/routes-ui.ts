import type { FastifyError, FastifyInstance, FastifyReply, FastifyRequest } from 'fastify';
import { KaployError } from '../../common/errors.js';
import { nodeIndex } from '../../common/site-config.js';
import { assertHostname } from '../../formats/node-names.js';
import type { EngineServices } from '../operations/engine-services.js';
import type { EnginePlugin } from '../server/app.js';
import type { EngineContext } from '../server/context.js';
import { notFound, statusOf } from '../server/http-errors.js';
import { type Html, html } from './html.js';
import { page } from './layout.js';
import { formBodies, loginRoutes } from './login.js';
import { streamOperation } from './operation-events.js';
import { kindOfWid, parseVerbosity } from './operation-kinds.js';
import { environmentRoutes } from './page-environments.js';
import { nodeBody, nodeHistory } from './page-node.js';
import { nodeLines, nodesBody } from './page-nodes.js';
import { operationBody } from './page-operation.js';
import { operationsBody, visibleOperations } from './page-operations.js';
import { restoresRoutes } from './page-restores.js';
import { statsRoutes } from './page-stats.js';
import { pageReply } from './reply-page.js';
import { installSessionHook } from './session-hook.js';
import { UiSessions } from './sessions.js';
import { staticRoutes } from './static-files.js';

/** A dashboard session lasts this long (a working day), then its user logs in again. */
const SESSION_TTL_MS = 8 * 3600_000;
const MAX_SESSIONS = 10_000;

const WID_PARAMS = {
  type: 'object',
  required: ['wid'],
  properties: { wid: { type: 'string', maxLength: 64 } },
} as const;
const VERBOSITY_QUERY = {
  type: 'object',
  additionalProperties: false,
  properties: { verbosity: { type: 'string', maxLength: 2 }, from: { type: 'integer', minimum: 0 } },
} as const;

function errorPage(ctx: EngineContext, title: string, message: string): string {
  return page({ title, site: ctx.config.site, body: html`<p class="error" role="alert">${message}</p>` });
}

/** Errors as pages: the same codes and statuses as the API, the message as text. */
function uiErrorHandler(ctx: EngineContext) {
  return (error: FastifyError | Error, request: FastifyRequest, reply: FastifyReply) => {
    let e: KaployError;
    if (error instanceof KaployError) e = error;
    else if ('validation' in error && error.validation)
      e = new KaployError('KAPLOY_OPTION', `invalid request: ${error.message}`);
    else if ('statusCode' in error && typeof error.statusCode === 'number' && error.statusCode < 500)
      e = new KaployError('KAPLOY_OPTION', `invalid request: ${error.message}`);
    else {
      request.log.error({ err: error }, 'unexpected error in the dashboard');
      e = new KaployError('KAPLOY_INTERNAL', 'internal error in the kaploy server (see its log)');
    }
    const status = 'statusCode' in error && error.statusCode === 413 ? 413 : statusOf(e);
    void reply
      .code(status)
      .type('text/html; charset=utf-8')
      .send(errorPage(ctx, status === 404 ? 'Not found' : status === 403 ? 'Refused' : 'Error', e.message));
  };
}

/**
 * The web dashboard on the engine's listener (/ui): pages rendered here, every value escaped, read
 * through the same services and rights as the API (docs/dashboard.md).
 */
export function uiRoutes(services: EngineServices): EnginePlugin {
  return async (app: FastifyInstance, { ctx }) => {
    const sessions = new UiSessions({ ttlMs: SESSION_TTL_MS, max: MAX_SESSIONS });
    const svc = services.operations;
    const index = nodeIndex(ctx.config);
    app.setErrorHandler(uiErrorHandler(ctx));
    formBodies(app);
    installSessionHook(app, ctx, sessions);
    staticRoutes(app);
    loginRoutes(app, ctx, sessions, SESSION_TTL_MS);

    const view = pageReply(ctx);
    const send = (request: FastifyRequest, reply: FastifyReply, title: string, body: Html, extra = {}) =>
      view(request, reply)(title, body, extra);
    const hide = { hide: true } as const;

    app.get('/ui', { schema: hide }, async (_request, reply) => reply.redirect('/ui/nodes', 303));

    app.get('/ui/nodes', { schema: hide }, async (request, reply) =>
      send(request, reply, 'Nodes', nodesBody(nodeLines(ctx, svc, request.user))),
    );

    app.get<{ Params: { node: string } }>(
      '/ui/nodes/:node',
      {
        schema: {
          ...hide,
          params: { type: 'object', properties: { node: { type: 'string', maxLength: 255 } } },
        },
      },
      async (request, reply) => {
        const name = assertHostname(request.params.node);
        const line = nodeLines(ctx, svc, request.user).find((l) => l.row.name === name);
        const cfg = index.get(name);
        if (!line || !cfg)
          throw notFound('KAPLOY_NODE_LIST', `unknown node ${name} on site ${ctx.config.site}`);
        return send(request, reply, name, nodeBody(line, cfg.address, nodeHistory(ctx.store.db, name)));
      },
    );

    app.get('/ui/operations', { schema: hide }, async (request, reply) =>
      send(request, reply, 'Operations', operationsBody(visibleOperations(ctx, svc, request.user))),
    );

    app.get<{ Params: { wid: string }; Querystring: { verbosity?: string } }>(
      '/ui/operations/:wid',
      { schema: { ...hide, params: WID_PARAMS, querystring: VERBOSITY_QUERY } },
      async (request, reply) => {
        const { wid } = request.params;
        const kind = kindOfWid(wid);
        const verbosity = parseVerbosity(request.query.verbosity);
        const st = svc.status(request.user, kind, wid);
        const log = svc.logs(request.user, kind, wid, { from: 0, verbosity, debug: false });
        return send(request, reply, wid, operationBody(st, log, verbosity), {
          scripts: ['/ui/static/live.js'],
        });
      },
    );

    app.get<{ Params: { wid: string }; Querystring: { verbosity?: string; from?: number } }>(
      '/ui/operations/:wid/events',
      { schema: { ...hide, params: WID_PARAMS, querystring: VERBOSITY_QUERY } },
      async (request, reply) => {
        const { wid } = request.params;
        await streamOperation(
          request,
          reply,
          svc,
          kindOfWid(wid),
          wid,
          { from: request.query.from ?? 0, verbosity: parseVerbosity(request.query.verbosity) },
          ctx.signal,
        );
      },
    );
    environmentRoutes(app, ctx, view);
    statsRoutes(app, ctx, view);
    restoresRoutes(app, ctx, view);
  };
}
