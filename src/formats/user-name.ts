import { KaployError } from '../common/errors.js';

/**
 * Unix user names as useradd accepts them; the name is also used in paths (~NAME). The same rule
 * as src/api/schemas.ts USER_PATTERN, applied to command-line users and OAR job owners.
 */
const USER_RE = /^[a-z_][a-z0-9_.-]{0,31}$/;

export function isValidUserName(name: string): boolean {
  return USER_RE.test(name);
}

export function assertUserName(name: string): string {
  if (!USER_RE.test(name)) {
    throw new KaployError(
      'KAPLOY_OPTION',
      `invalid user name '${name}': expected a Unix login (lower-case letters, digits, '_', '.', '-')`,
    );
  }
  return name;
}
