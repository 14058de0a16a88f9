import type { AuthenticatedUser } from '../auth/authenticate.js';

/** Set by the authentication hook on every request before any route runs. */
declare module 'fastify' {
  interface FastifyRequest {
    user: AuthenticatedUser;
  }
}
