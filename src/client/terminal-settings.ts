import { type ClientConfig, clientConfigPath, loadClientConfig } from './client-config.js';

/**
 * The client configuration's presentation settings, read softly: a command that reaches a server
 * reads (and reports the errors of) the configuration anyway; one that fails to load here keeps
 * the defaults rather than failing twice.
 */
function settings(env: NodeJS.ProcessEnv): Pick<ClientConfig, 'progress' | 'exitCodes'> {
  try {
    const c = loadClientConfig(clientConfigPath(env));
    return { progress: c.progress, exitCodes: c.exitCodes };
  } catch {
    return { progress: true, exitCodes: 'kaploy' };
  }
}

/**
 * Whether to draw the live progress line (\r-rewritten, on stderr): only on a terminal whose TERM
 * can move the cursor, and unless switched off ($KAPLOY_PROGRESS=0 or `progress: false`). execo
 * runs kadeploy3 through `ssh -tt`, a terminal whose output is read as text: the line would be
 * noise there.
 */
export function progressWanted(err: { isTTY?: boolean }, env: NodeJS.ProcessEnv = process.env): boolean {
  if (err.isTTY !== true) return false;
  if (!env.TERM || env.TERM === 'dumb') return false;
  if (env.KAPLOY_PROGRESS !== undefined) return !/^(0|off|false|no)$/i.test(env.KAPLOY_PROGRESS);
  return settings(env).progress;
}

/** `exit_codes: kadeploy` or $KAPLOY_EXIT_CODES=kadeploy: Kadeploy's "0 once the operation ran". */
export function kadeployExitCodes(env: NodeJS.ProcessEnv = process.env): boolean {
  if (env.KAPLOY_EXIT_CODES !== undefined) return env.KAPLOY_EXIT_CODES === 'kadeploy';
  return settings(env).exitCodes === 'kadeploy';
}
