/** The engine's user name rule (src/api/schemas.ts USER_PATTERN), applied to OAR owners. */
const USER_RE = /^[a-z_][a-z0-9_.-]{0,31}$/;

export function isValidUserName(name: string): boolean {
  return USER_RE.test(name);
}
