import type { FastifyInstance } from 'fastify';
import type { BaseOutcome, PlanKind } from '../operations/operation-kind.js';
import type { KadeployWorkflows } from './workflows.js';

const WID = {
  type: 'object',
  required: ['wid'],
  properties: { wid: { type: 'string', maxLength: 64 } },
} as const;
const WID_AND = (name: string) =>
  ({
    type: 'object',
    required: ['wid', name],
    properties: { wid: { type: 'string', maxLength: 64 }, [name]: { type: 'string', maxLength: 255 } },
  }) as const;

/**
 * The workflow resources of one kind (Kadeploy's "Workflow-based operations"): GET <base> (unless
 * the kind's GET starts something, as GET /power does), GET <base>/:wid, /state, /status, /error,
 * /logs[/:cluster] and /debugs[/:node] (text, consumed on read), DELETE <base>/:wid.
 */
export function workflowRoutes(
  app: FastifyInstance,
  wf: KadeployWorkflows,
  kind: PlanKind<BaseOutcome>,
  base: string,
  opts: { list: boolean },
): void {
  if (opts.list) app.get(base, async (request) => wf.list(request.user, kind));
  type P = { Params: { wid: string } };
  type PX = { Params: { wid: string; cluster?: string; node?: string } };
  const text = 'text/plain; charset=utf-8';
  app.get<P>(`${base}/:wid`, { schema: { params: WID } }, async (request) =>
    wf.get(request.user, kind, request.params.wid),
  );
  app.get<P>(`${base}/:wid/state`, { schema: { params: WID } }, async (request) =>
    wf.state(request.user, kind, request.params.wid),
  );
  app.get<P>(`${base}/:wid/status`, { schema: { params: WID } }, async (request) =>
    wf.status(request.user, kind, request.params.wid),
  );
  app.get<P>(`${base}/:wid/error`, { schema: { params: WID } }, async (request, reply) =>
    reply.type(text).send(wf.error(request.user, kind, request.params.wid)),
  );
  app.get<P>(`${base}/:wid/logs`, { schema: { params: WID } }, async (request, reply) =>
    reply.type(text).send(wf.logs(request.user, kind, request.params.wid)),
  );
  app.get<PX>(
    `${base}/:wid/logs/:cluster`,
    { schema: { params: WID_AND('cluster') } },
    async (request, reply) =>
      reply.type(text).send(wf.logs(request.user, kind, request.params.wid, request.params.cluster)),
  );
  app.get<P>(`${base}/:wid/debugs`, { schema: { params: WID } }, async (request, reply) =>
    reply.type(text).send(wf.debugs(request.user, kind, request.params.wid)),
  );
  app.get<PX>(`${base}/:wid/debugs/:node`, { schema: { params: WID_AND('node') } }, async (request, reply) =>
    reply.type(text).send(wf.debugs(request.user, kind, request.params.wid, request.params.node)),
  );
  app.delete<P>(`${base}/:wid`, { schema: { params: WID } }, async (request) =>
    wf.delete(request.user, kind, request.params.wid),
  );
}

/** The answer to a start: the id and the resources' paths (Kadeploy's `resources`). */
export function startAnswer(
  prefix: string,
  base: string,
  wid: string,
  clusters: readonly string[],
  debug: boolean,
) {
  const at = `${prefix}${base}/${wid}`;
  return {
    wid,
    resources: {
      resource: at,
      log: `${at}/logs`,
      logs: Object.fromEntries(clusters.map((c) => [c, `${at}/logs/${c}`])),
      state: `${at}/state`,
      status: `${at}/status`,
      error: `${at}/error`,
      ...(debug ? { debug: `${at}/debugs` } : {}),
    },
  };
}
