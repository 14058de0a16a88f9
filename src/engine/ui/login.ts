import type { FastifyInstance } from 'fastify';
import { KaployError } from '../../common/errors.js';
import { SECRET_RE, userOfSecret } from '../auth/authenticate.js';
import { hashToken } from '../auth/token.js';
import type { EngineContext } from '../server/context.js';
import { clearedSessionCookie, readCookie, SESSION_COOKIE, sessionCookie } from './cookies.js';
import { html } from './html.js';
import { page } from './layout.js';
import { checkCsrf } from './session-hook.js';
import type { UiSessions } from './sessions.js';

const LOGIN_BODY = {
  type: 'object',
  required: ['secret'],
  additionalProperties: false,
  properties: { secret: { type: 'string', maxLength: 256 } },
} as const;

const LOGOUT_BODY = {
  type: 'object',
  additionalProperties: false,
  properties: { csrf: { type: 'string', maxLength: 64 } },
} as const;

function loginPage(site: string, message?: string): string {
  return page({
    title: 'Log in',
    site,
    body: html`<form method="post" action="/ui/login" class="login">
<p>Paste your kaploy secret: the token your commands use (the file <code>~/.kaploy/tokens/${site}</code>, or the one <code>$KAPLOY_TOKEN_FILE</code> names).</p>
${message ? html`<p class="error" role="alert">${message}</p>` : ''}
<label>Secret <input type="password" name="secret" autocomplete="current-password" required autofocus></label>
<button type="submit">Log in</button></form>`,
  });
}

/** GET/POST /ui/login (the secret exchanged for a session cookie) and POST /ui/logout. */
export function loginRoutes(
  app: FastifyInstance,
  ctx: EngineContext,
  sessions: UiSessions,
  ttlMs: number,
): void {
  const site = ctx.config.site;
  app.get('/ui/login', { schema: { hide: true } }, async (_request, reply) =>
    reply.type('text/html; charset=utf-8').send(loginPage(site)),
  );

  app.post<{ Body: { secret: string } }>(
    '/ui/login',
    { schema: { hide: true, body: LOGIN_BODY } },
    async (request, reply) => {
      const secret = request.body.secret.trim();
      const user = SECRET_RE.test(secret) ? userOfSecret(ctx.store, ctx.config, secret) : undefined;
      if (!user) {
        request.log.info('dashboard login refused');
        return reply
          .code(401)
          .type('text/html; charset=utf-8')
          .send(loginPage(site, 'Unknown or revoked secret.'));
      }
      // A new id at each login: an id set before it (session fixation) is never the one used.
      const old = readCookie(request.headers.cookie, SESSION_COOKIE);
      if (old !== undefined) sessions.delete(old);
      const s = sessions.create(user.name, hashToken(secret));
      request.log.info({ user: user.name }, 'dashboard login');
      return reply
        .header('set-cookie', sessionCookie(s.id, Math.floor(ttlMs / 1000), request.protocol === 'https'))
        .redirect('/ui/nodes', 303);
    },
  );

  app.post<{ Body: { csrf?: string } }>(
    '/ui/logout',
    { schema: { hide: true, body: LOGOUT_BODY } },
    async (request, reply) => {
      checkCsrf(request, request.body.csrf);
      sessions.delete(request.uiSession.id);
      return reply.header('set-cookie', clearedSessionCookie()).redirect('/ui/login', 303);
    },
  );
}

/** Form posts (application/x-www-form-urlencoded) as objects, bounded; one value per name. */
export function formBodies(app: FastifyInstance): void {
  app.addContentTypeParser(
    'application/x-www-form-urlencoded',
    { parseAs: 'string', bodyLimit: 16 * 1024 },
    (_request, body, done) => {
      try {
        done(null, Object.fromEntries(new URLSearchParams(body as string)));
      } catch {
        done(new KaployError('KAPLOY_OPTION', 'malformed form'), undefined);
      }
    },
  );
}
