/** Where the dashboard lives on the engine's listener. */
const UI_PREFIX = '/ui';

/**
 * Whether a request is the dashboard's: those authenticate by the dashboard's session cookie
 * (src/engine/ui/session-hook.ts), never by a bearer header, and the API never by the cookie.
 */
export function isDashboardUrl(url: string): boolean {
  return url === UI_PREFIX || url.startsWith(`${UI_PREFIX}/`) || url.startsWith(`${UI_PREFIX}?`);
}
