import { mkdirSync, readFileSync } from 'node:fs';
import path from 'node:path';
import { KaployError } from '../../common/errors.js';
import { describeFailure, runCommand } from '../../common/run-command.js';
import type { SiteRunner } from './site-runner.js';

/**
 * The grid job's one key pair, shared by every site job (`oarsub -k -i FILE`): with it the user
 * reaches the nodes of every site with oarsh (`OAR_JOB_KEY_FILE`). RSA, because OAR 2.5.9's
 * oarsub refuses other keys ("The public key must begin with either `ssh-rsa' or `ssh-dss'").
 */
export async function makeGridKey(
  dir: string,
  gridId: number,
  signal?: AbortSignal,
  site?: string,
): Promise<string> {
  const keyDir = path.join(dir, 'oargrid-keys');
  mkdirSync(keyDir, { recursive: true, mode: 0o700 });
  const file = path.join(keyDir, site === undefined ? `grid-${gridId}` : `grid-${gridId}-${site}`);
  const r = await runCommand(
    ['ssh-keygen', '-q', '-t', 'rsa', '-b', '3072', '-N', '', '-C', `oargrid-${gridId}`, '-f', file],
    { timeoutMs: 30_000, ...(signal ? { signal } : {}) },
  );
  if (r.code !== 0) throw new KaployError('KAPLOY_INTERNAL', `ssh-keygen failed: ${describeFailure(r)}`);
  return file;
}

/**
 * Where oarsub on a remote frontend reads the key: the private key goes through ssh's stdin (never
 * an argument, which other users of the frontend could read in ps), into the user's home, mode 600;
 * it is removed once oarsub has imported it.
 */
const REMOTE_KEY_DIR = '.kaploy-oargrid';

export function remoteKeyPath(keyFile: string): string {
  return `${REMOTE_KEY_DIR}/${path.basename(keyFile)}.key`;
}

export async function copyKeyTo(
  run: SiteRunner,
  site: string,
  keyFile: string,
  remote: string,
  signal?: AbortSignal,
): Promise<void> {
  const r = await run(
    ['sh', '-c', 'umask 077 && mkdir -p "$1" && cat > "$2"', 'sh', REMOTE_KEY_DIR, remote],
    {
      input: readFileSync(keyFile, 'utf8'),
      ...(signal ? { signal } : {}),
    },
  );
  if (r.code !== 0) {
    throw new KaployError(
      'KAPLOY_OAR',
      `site ${site}: cannot write the grid key to ~/${remote}: ${describeFailure(r)}`,
    );
  }
}

export async function removeRemoteKey(run: SiteRunner, remote: string, signal?: AbortSignal): Promise<void> {
  // Best effort: a key left behind is the user's own file, in their own directory, mode 600.
  await run(['rm', '-f', remote], signal ? { signal } : {}).catch(() => undefined);
}
