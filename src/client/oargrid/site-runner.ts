import { KaployError } from '../../common/errors.js';
import { type CommandResult, runCommand } from '../../common/run-command.js';
import { shellJoin } from '../../common/shell-quote.js';
import type { SiteAccess } from './oargrid-config.js';

/** Runs one OAR (or date) command on a site: `argv` as given there, never through a local shell. */
export type SiteRunner = (
  argv: readonly string[],
  opts: { signal?: AbortSignal; input?: string },
) => Promise<CommandResult>;

/** OAR answers are small (a job's JSON, one line per resource): past this something is wrong. */
const MAX_OUTPUT_BYTES = 8 << 20;

/** ssh's own failures (connection, authentication, host key) exit 255 (ssh(1), EXIT STATUS). */
const SSH_FAILED = 255;

/**
 * Local access runs the argument vector itself; ssh access runs it on the site frontend, every
 * word shell-quoted (the remote sshd hands the command line to the user's shell). BatchMode: a
 * password prompt would hang a grid submission; `--` keeps the host from being read as an option.
 */
export function siteRunner(site: string, access: SiteAccess, timeoutMs: number): SiteRunner {
  return async (argv, opts) => {
    const full =
      access.kind === 'local'
        ? [...argv]
        : [
            'ssh',
            ...(access.configFile === undefined ? [] : ['-F', access.configFile]),
            '-o',
            'BatchMode=yes',
            '-o',
            `ConnectTimeout=${Math.max(1, Math.min(30, Math.floor(timeoutMs / 4000)))}`,
            '--',
            access.host,
            shellJoin(argv),
          ];
    let r: CommandResult;
    try {
      r = await runCommand(full, {
        timeoutMs,
        maxBuffer: MAX_OUTPUT_BYTES,
        ...(opts.signal ? { signal: opts.signal } : {}),
        ...(opts.input === undefined ? {} : { input: opts.input }),
      });
    } catch (e) {
      throw new KaployError('KAPLOY_CLIENT', `site ${site}: cannot run ${full[0]}: ${(e as Error).message}`, {
        cause: e,
      });
    }
    if (opts.signal?.aborted) throw opts.signal.reason ?? new Error('aborted');
    if (access.kind === 'ssh' && r.code === SSH_FAILED) {
      const why = r.stderr.trim().split('\n').at(-1)?.slice(0, 300) ?? '';
      throw new KaployError('KAPLOY_CLIENT', `site ${site}: cannot reach ${access.host} over ssh: ${why}`);
    }
    return r;
  };
}
