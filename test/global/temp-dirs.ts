import { execFileSync } from 'node:child_process';
import { chmodSync, mkdtempSync, readdirSync, rmSync } from 'node:fs';
import os from 'node:os';
import path from 'node:path';

/**
 * vitest globalSetup: every fixture removes what it creates. The run gets its own temporary root
 * (TMPDIR, inherited by the test workers and every process they spawn), so what is left in it at
 * the end was left by this run, whatever other runs on the machine do in the system's /tmp. The
 * fixtures' prefixes (kaploy-testbed-, kaploy-vnode-, kaploy-engine-, kaploy-sshd-, ...) all land
 * there; anything left fails the run, with its size, and the root is removed either way.
 */
export function setup(): () => void {
  const root = mkdtempSync(path.join(os.tmpdir(), 'kaploy-test-run-'));
  // The same modes as /tmp: the slow tiers run programs as other users (sshd reading a test
  // user's authorized_keys, OAR's users, the job owner's kadeploy3), who inherit TMPDIR and must
  // reach, and create in, it. mkdtemp's 0700 kept them out.
  chmodSync(root, 0o1777);
  const previous = process.env.TMPDIR;
  process.env.TMPDIR = root;
  return () => {
    if (previous === undefined) delete process.env.TMPDIR;
    else process.env.TMPDIR = previous;
    const left = readdirSync(root);
    if (left.length > 0) {
      const sizes = left.map((e) => `  ${e} (${du(path.join(root, e))})`).join('\n');
      process.stderr.write(
        `\ntemporary entries left by the tests (a fixture did not remove what it created):\n${sizes}\n`,
      );
      // A thrown error here is only logged by vitest; the exit code is what fails the run.
      process.exitCode = 1;
    }
    rmSync(root, { recursive: true, force: true });
  };
}

function du(p: string): string {
  try {
    return execFileSync('du', ['-sh', p], { encoding: 'utf8' }).split('\t')[0] ?? '?';
  } catch {
    return '?';
  }
}
