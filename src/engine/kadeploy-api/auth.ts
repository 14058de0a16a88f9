import type { FastifyInstance, FastifyRequest } from 'fastify';
import { KaployError } from '../../common/errors.js';
import type { KadeployApiConfig } from '../../common/site-config.js';
import { isValidUserName } from '../../formats/user-name.js';
import { type AuthenticatedUser, authenticate } from '../auth/authenticate.js';
import type { EngineContext } from '../server/context.js';
import '../server/request-user.js';

/** Routes a client calls before it knows who it is (Kadeploy's clients start with GET /version). */
declare module 'fastify' {
  interface FastifyContextConfig {
    kadeployPublic?: boolean;
  }
}

const BASIC_RE = /^Basic ([A-Za-z0-9+/=]{1,600})$/;
/** Kadeploy's message for an identity header from elsewhere than a trusted machine. */
const UNTRUSTED = 'Authentication failed: trying to authenticate from an untrusted source';

const authError = (message: string) => new KaployError('KAPLOY_AUTH', message);

/** An address with IPv4-mapped IPv6 written as IPv4 (as the configuration is normalised). */
export function plainAddress(a: string | undefined): string {
  return (a ?? '').replace(/^::ffff:(\d+\.\d+\.\d+\.\d+)$/i, '$1');
}

/** The peer's address, as the configuration writes addresses. */
export function sourceAddress(request: FastifyRequest): string {
  return plainAddress(request.socket.remoteAddress);
}

/**
 * Who calls, the ways Kadeploy 3.3 lets a site authenticate: HTTP Basic `user:secret`, where the
 * secret is the user's kaploy token (checked exactly as the engine's Bearer check does, then the
 * name must be the token's owner); or the `<prefix>User` header, believed only from the configured
 * trusted proxies (g5k-api names the user it authenticated). A header from any other address is
 * refused, never ignored, so a misconfigured proxy is seen at once.
 */
function kadeployIdentity(
  ctx: EngineContext,
  api: KadeployApiConfig,
  request: FastifyRequest,
): AuthenticatedUser {
  const headerName = `${api.headerPrefix}User`.toLowerCase();
  const raw = request.headers[headerName];
  if (Array.isArray(raw)) throw authError(`Authentication failed: ${api.headerPrefix}User given twice`);
  const named = raw?.trim();
  const auth = request.headers.authorization;
  if (auth !== undefined && auth !== '') {
    const m = BASIC_RE.exec(auth);
    if (!m)
      throw authError('Authentication failed: malformed Authorization header (expected Basic user:secret)');
    const decoded = Buffer.from(m[1] as string, 'base64').toString('utf8');
    const colon = decoded.indexOf(':');
    if (colon <= 0) throw authError('Authentication failed: Basic credentials are not user:secret');
    const user = decoded.slice(0, colon);
    const caller = authenticate(ctx.store, ctx.config, `Bearer ${decoded.slice(colon + 1)}`);
    if (caller.name !== user)
      throw authError(
        `Authentication failed: the secret given is not ${user}'s (invalid authentication credentials)`,
      );
    if (named !== undefined && named !== user)
      throw authError(
        `Authentication failed: ${api.headerPrefix}User (${named}) is not the authenticated user`,
      );
    return caller;
  }
  if (named !== undefined) {
    if (!api.trustedProxies.includes(sourceAddress(request))) throw authError(UNTRUSTED);
    if (!isValidUserName(named)) throw authError(`Authentication failed: '${named}' is not a user name`);
    return { name: named, admin: ctx.config.admins.includes(named) };
  }
  throw authError(
    `authentication required: no credentials were sent (Authorization: Basic user:secret, or ${api.headerPrefix}User from a trusted proxy)`,
  );
}

/** Authenticates every request of the listener, before routing goes on, except the public routes. */
export function installKadeployAuth(app: FastifyInstance, ctx: EngineContext, api: KadeployApiConfig): void {
  app.decorateRequest('user', undefined as never);
  app.addHook('onRequest', async (request) => {
    if (request.routeOptions.config?.kadeployPublic === true) return;
    request.user = kadeployIdentity(ctx, api, request);
  });
}
