import Fastify, { type FastifyBaseLogger, type FastifyInstance, type FastifyReply } from 'fastify';
import { isKaployError, KaployError } from '../../common/errors.js';
import type { Logger } from '../../common/logger.js';
import { isValidHostname } from '../../formats/node-names.js';
import type { VirtualNode } from '../node/index.js';
import { attachConsoleUpgrade } from './console-server.js';
import { bearerMatches } from './control-auth.js';
import { parseFault } from './fault-parse.js';

export interface ControlApiOptions {
  nodes: Map<string, VirtualNode>;
  logger: Logger;
  /** Whether every node has been started, or why starting failed (GET /health). */
  health: () => { ready: boolean; started: number; error?: string };
  /** Called once by POST /shutdown, after the reply is sent. */
  onShutdown: () => void;
  /**
   * The bearer token every request (and console upgrade) must carry: the engine has it through
   * the site configuration's `token_file`; a user's command on a node cannot read it (the
   * sandbox sees only the node's directory), so it cannot power off another user's node.
   */
  token: string;
}

const LEVELS = new Set(['soft', 'hard', 'very_hard']);

/**
 * The daemon's control API, what a BMC offers a real site: power, reboot and status per node,
 * plus what only a testbed has (fault injection, shutdown). Also serves each node's serial console
 * as an HTTP upgrade (GET /nodes/:node/console). Errors are `{error: {code, appCode, message}}`.
 */
export function buildControlApi(o: ControlApiOptions): FastifyInstance {
  // Requests log at info; a line per power call of every node is noise here, so warn and above.
  const app = Fastify({
    loggerInstance: o.logger.child({ part: 'control-api' }, { level: 'warn' }) as FastifyBaseLogger,
  });
  // Power commands are posted without a body; accept an empty JSON body too.
  app.removeContentTypeParser('application/json');
  app.addContentTypeParser('application/json', { parseAs: 'string' }, (_req, body, done) => {
    const text = typeof body === 'string' ? body : body.toString('utf8');
    if (text.trim() === '') return done(null, undefined);
    try {
      done(null, JSON.parse(text));
    } catch {
      done(new KaployError('KAPLOY_OPTION', 'request body is not valid JSON'), undefined);
    }
  });
  app.setErrorHandler((e, _req, reply) => {
    if (isKaployError(e)) {
      const status = e.code === 'KAPLOY_NOT_FOUND' ? 404 : 400;
      return reply.code(status).send({ error: e.toJSON() });
    }
    const status = (e as { statusCode?: number }).statusCode ?? 500;
    return reply.code(status).send({
      error: { code: status < 500 ? 'KAPLOY_OPTION' : 'KAPLOY_INTERNAL', message: (e as Error).message },
    });
  });

  app.addHook('onRequest', async (req, reply) => {
    if (!bearerMatches(req.headers.authorization, o.token))
      return reply
        .code(401)
        .header('www-authenticate', 'Bearer')
        .send({ error: { code: 'KAPLOY_AUTH', message: 'the control API needs its bearer token' } });
  });

  const node = (name: string): VirtualNode => {
    if (!isValidHostname(name))
      throw new KaployError('KAPLOY_NODE_LIST', `invalid node name '${name}'`, { node: name });
    const n = o.nodes.get(name);
    if (!n)
      throw new KaployError('KAPLOY_NOT_FOUND', `unknown node '${name}' on this virtual site`, {
        node: name,
      });
    return n;
  };
  const ok = (reply: FastifyReply, name: string) => reply.send({ node: name, ok: true });
  type P = { Params: { node: string } };

  app.get('/health', async () => ({ ...o.health(), pid: process.pid, nodes: o.nodes.size }));
  app.get('/nodes', async () => [...o.nodes.values()].map((n) => n.status()));
  app.get<P>('/nodes/:node', async (req) => node(req.params.node).status());
  app.get<P>('/nodes/:node/power', async (req, reply) =>
    reply.type('text/plain').send(node(req.params.node).status().power),
  );
  app.post<P>('/nodes/:node/power/on', async (req, reply) => {
    await node(req.params.node).powerOn();
    return ok(reply, req.params.node);
  });
  app.post<P>('/nodes/:node/power/off', async (req, reply) => {
    await node(req.params.node).powerOff();
    return ok(reply, req.params.node);
  });
  app.post<P & { Querystring: { level?: string } }>('/nodes/:node/reboot', async (req, reply) => {
    const level = req.query.level ?? 'soft';
    if (!LEVELS.has(level))
      throw new KaployError('KAPLOY_OPTION', `unknown reboot level '${level}' (soft, hard, very_hard)`);
    const n = node(req.params.node);
    await n.reboot(level as 'soft');
    return ok(reply, req.params.node);
  });
  app.post<P>('/nodes/:node/faults', async (req, reply) => {
    const n = node(req.params.node);
    const f = parseFault(req.body);
    n.injectFault(f);
    return reply.send({ node: req.params.node, faults: n.status().faults });
  });
  app.delete<P>('/nodes/:node/faults', async (req, reply) => {
    node(req.params.node).clearFaults();
    return ok(reply, req.params.node);
  });
  app.post('/shutdown', async (_req, reply) => {
    reply.raw.once('finish', o.onShutdown);
    return reply.send({ ok: true });
  });
  attachConsoleUpgrade(app, o.token, (name) => {
    try {
      return node(name);
    } catch (e) {
      return e as KaployError;
    }
  });
  return app;
}
