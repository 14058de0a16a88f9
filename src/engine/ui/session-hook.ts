import { timingSafeEqual } from 'node:crypto';
import type { FastifyInstance, FastifyRequest } from 'fastify';
import { KaployError } from '../../common/errors.js';
import { userOfTokenHash } from '../auth/authenticate.js';
import type { EngineContext } from '../server/context.js';
import { withStatus } from '../server/http-errors.js';
import '../server/request-user.js';
import { readCookie, SESSION_COOKIE } from './cookies.js';
import { setSecurityHeaders } from './security-headers.js';
import type { UiSession, UiSessions } from './sessions.js';

declare module 'fastify' {
  interface FastifyRequest {
    /** The dashboard session of a dashboard request (set by the session hook). */
    uiSession: UiSession;
  }
}

/** What a browser may fetch without a session: the login page and the static files. */
function isPublic(url: string): boolean {
  const path = url.split('?')[0] ?? '';
  return path === '/ui/login' || path.startsWith('/ui/static/');
}

/**
 * Every dashboard request but the public ones carries a live session whose secret still names its
 * user; the request then acts as that user (request.user), through the same services and rights
 * as the API. A GET without one is sent to the login page; anything else is refused.
 */
export function installSessionHook(app: FastifyInstance, ctx: EngineContext, sessions: UiSessions): void {
  app.decorateRequest('uiSession', undefined as never);
  app.addHook('onRequest', async (request, reply) => {
    setSecurityHeaders(reply);
    if (isPublic(request.url)) return;
    const s = sessions.get(readCookie(request.headers.cookie, SESSION_COOKIE));
    const user = s ? userOfTokenHash(ctx.store, ctx.config, s.tokenHash) : undefined;
    if (!s || !user || user.name !== s.user) {
      if (s) sessions.delete(s.id);
      if (request.method === 'GET' || request.method === 'HEAD') return reply.redirect('/ui/login', 303);
      throw new KaployError('KAPLOY_AUTH', 'no dashboard session (log in again)');
    }
    request.user = user;
    request.uiSession = s;
  });
}

function sameToken(a: string, b: string): boolean {
  const x = Buffer.from(a);
  const y = Buffer.from(b);
  return x.length === y.length && timingSafeEqual(x, y);
}

/**
 * A state-changing form must carry the session's CSRF token, and come from this dashboard's own
 * origin when the browser says where it comes from (SameSite=Strict already keeps the cookie off
 * other sites' requests; this holds without it).
 */
export function checkCsrf(request: FastifyRequest, token: unknown): void {
  const origin = request.headers.origin;
  const ok =
    typeof token === 'string' &&
    sameToken(token, request.uiSession.csrf) &&
    (origin === undefined || origin === `${request.protocol}://${request.headers.host ?? ''}`);
  if (!ok)
    throw withStatus(
      new KaployError('KAPLOY_RIGHTS', 'refused: the form was not sent from this dashboard (CSRF check)'),
      403,
    );
}
