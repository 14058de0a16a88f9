import { KaployError } from '../../common/errors.js';
import type { SiteConfig } from '../../common/site-config.js';
import type { Store } from '../store/store.js';
import { hashToken, sameHash } from './token.js';

export interface AuthenticatedUser {
  name: string;
  admin: boolean;
}

/** A secret as the commands send it: base64url, bounded. */
export const SECRET_RE = /^[A-Za-z0-9_-]{16,200}$/;
const BEARER_RE = /^Bearer ([A-Za-z0-9_-]{16,200})$/;

/**
 * Maps an `Authorization: Bearer <secret>` header to a user. The lookup is by sha256 of the
 * secret (an attacker controls the secret, not its hash, so the index lookup leaks nothing useful);
 * the stored hash is still compared in constant time before it is trusted.
 */
export function authenticate(
  store: Store,
  config: SiteConfig,
  header: string | undefined,
): AuthenticatedUser {
  if (header === undefined || header === '') {
    throw new KaployError(
      'KAPLOY_AUTH',
      'authentication required: no credentials were sent (Authorization: Bearer <token>)',
    );
  }
  const m = BEARER_RE.exec(header);
  if (!m)
    throw new KaployError(
      'KAPLOY_AUTH',
      'authentication failed: malformed Authorization header (expected Bearer <token>)',
    );
  const user = userOfSecret(store, config, m[1] as string);
  if (!user) {
    throw new KaployError(
      'KAPLOY_AUTH',
      'authentication failed: unknown or revoked token (ask a site admin to enrol you again)',
    );
  }
  return user;
}

/**
 * The user a secret's hash belongs to, else undefined: the one lookup behind the API's bearer
 * header and the dashboard's login and sessions (which hold the hash, so a rotated or revoked
 * secret ends them too).
 */
export function userOfTokenHash(
  store: Store,
  config: SiteConfig,
  hash: string,
): AuthenticatedUser | undefined {
  const row = store.users.byTokenHash(hash);
  if (!row || !sameHash(row.token_sha256, hash)) return undefined;
  return { name: row.name, admin: config.admins.includes(row.name) };
}

/** The user of a secret (the token the commands send), else undefined. */
export function userOfSecret(
  store: Store,
  config: SiteConfig,
  secret: string,
): AuthenticatedUser | undefined {
  return userOfTokenHash(store, config, hashToken(secret));
}
