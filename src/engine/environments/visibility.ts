import type { AuthenticatedUser } from '../auth/authenticate.js';
import type { StoredEnvironment } from '../store/environments-repo.js';

/**
 * Who sees what (reference §2): public environments are seen by all; shared ones by anyone naming
 * the owner with -u; private ones by their owner only. Admins see everything when they name the
 * owner. Another user's private environment gets the same answer as a missing one.
 */
export function canSee(caller: AuthenticatedUser, env: StoredEnvironment, ownerNamed: boolean): boolean {
  if (env.user === caller.name) return true;
  if (env.visibility === 'public') return true;
  if (!ownerNamed) return false;
  return env.visibility === 'shared' || caller.admin;
}

/** Keeps the latest version of each (user, name). Input must be ordered by name, user, version. */
export function latestVersions(envs: readonly StoredEnvironment[]): StoredEnvironment[] {
  const out = new Map<string, StoredEnvironment>();
  for (const e of envs) out.set(`${e.user}\0${e.name}`, e);
  return [...out.values()];
}
