import { KaployError } from '../../common/errors.js';
import { KAPLOY_VERSION } from '../../common/version.js';

/**
 * Checks an engine's `GET /version` answer before any work is sent to it: an engine that answers
 * something else (a web server on the wrong port, a proxy's error page) or another API version is
 * a clear error for its site, not a crash halfway through a run. Versions are semver: the API
 * changes with the major version, and with the minor one while the major is 0.
 */
export function checkEngineVersion(answer: unknown, server: string, client = KAPLOY_VERSION): void {
  const version = (answer as { version?: unknown } | undefined)?.version;
  if (typeof answer !== 'object' || answer === null || typeof version !== 'string' || !SEMVER.test(version)) {
    throw new KaployError(
      'KAPLOY_CLIENT',
      `server ${server} did not answer GET /version as a kaploy engine does (expected {"version": "X.Y.Z", ...})`,
    );
  }
  if (apiOf(version) !== apiOf(client)) {
    throw new KaployError(
      'KAPLOY_CLIENT',
      `server ${server} runs kaploy ${version}, whose API differs from this client's (${client})`,
    );
  }
}

const SEMVER = /^\d{1,6}\.\d{1,6}\.\d{1,6}(?:[-+][0-9A-Za-z.+-]{0,64})?$/;

function apiOf(v: string): string {
  const [major, minor] = v.split('.');
  return major === '0' ? `0.${minor}` : String(major);
}
