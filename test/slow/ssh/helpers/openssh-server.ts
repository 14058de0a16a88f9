import { type ChildProcess, execFileSync, spawn } from 'node:child_process';
import {
  chmodSync,
  chownSync,
  existsSync,
  mkdirSync,
  mkdtempSync,
  readdirSync,
  readFileSync,
  rmSync,
  writeFileSync,
} from 'node:fs';
import { createServer } from 'node:net';
import { tmpdir, userInfo } from 'node:os';
import { join } from 'node:path';
import { isPortOpen } from '../../../../src/engine/net/port-check.js';

/**
 * Debian's real sshd, started for one test file: its own config, host key, authorized_keys, pid
 * file and port on 127.0.0.1 in a temp dir. As root it logs in a dedicated user whose shell is
 * /bin/sh, because bash sources root's .bashrc for every command run by sshd (~80 ms each).
 */
export interface OpenSshServer {
  dir: string;
  /** Writable by the login user. */
  workDir: string;
  port: number;
  username: string;
  engineKey: string;
  hostKeyBlob: Buffer;
  stop(): Promise<void>;
  /** Restart on the same port with the same host key (a node rebooting). */
  restart(): Promise<void>;
}

const TEST_USER = 'kaploy-sshtest';
const TEST_HOME = '/var/lib/kaploy-sshtest';

function ensureTestUser(): string {
  if (process.getuid?.() !== 0) return userInfo().username;
  try {
    execFileSync('id', [TEST_USER], { stdio: 'ignore' });
  } catch {
    execFileSync('useradd', [
      '--system',
      '--no-create-home',
      '--home-dir',
      TEST_HOME,
      '--shell',
      '/bin/sh',
      TEST_USER,
    ]);
  }
  // UsePAM=no makes sshd refuse accounts whose password field is locked ('!'); '*' is "no password".
  // A missing home directory makes sshd print a warning on every command's stderr.
  execFileSync('usermod', ['-p', '*', '-d', TEST_HOME, '-s', '/bin/sh', TEST_USER]);
  mkdirSync(TEST_HOME, { recursive: true, mode: 0o755 });
  const uid = Number(execFileSync('id', ['-u', TEST_USER], { encoding: 'utf8' }).trim());
  const gid = Number(execFileSync('id', ['-g', TEST_USER], { encoding: 'utf8' }).trim());
  chownSync(TEST_HOME, uid, gid);
  return TEST_USER;
}

/** Every descendant of `pid` (sshd's per-connection monitors, their user children, the commands). */
function sessionPids(pid: number | undefined): number[] {
  if (pid === undefined) return [];
  const parentOf = new Map<number, number>();
  for (const entry of readdirSync('/proc')) {
    if (!/^\d+$/.test(entry)) continue;
    try {
      // Field 4 of /proc/PID/stat is the parent; the command name (field 2) may contain spaces.
      const stat = readFileSync(`/proc/${entry}/stat`, 'utf8');
      const ppid = Number(stat.slice(stat.lastIndexOf(')') + 2).split(' ')[1]);
      parentOf.set(Number(entry), ppid);
    } catch {
      // exited meanwhile
    }
  }
  const out: number[] = [];
  const walk = (p: number) => {
    for (const [child, parent] of parentOf) {
      if (parent === p) {
        out.push(child);
        walk(child);
      }
    }
  };
  walk(pid);
  return out;
}

async function freePort(): Promise<number> {
  const s = createServer();
  await new Promise<void>((r) => s.listen(0, '127.0.0.1', r));
  const a = s.address();
  await new Promise((r) => s.close(r));
  if (typeof a !== 'object' || a === null) throw new Error('no port');
  return a.port;
}

export async function startOpenSsh(): Promise<OpenSshServer> {
  const username = ensureTestUser();
  const dir = mkdtempSync(join(tmpdir(), 'kaploy-sshd-'));
  let child: ChildProcess | undefined;
  // A server that fails to start leaves neither its directory nor a half-started sshd behind.
  try {
    chmodSync(dir, 0o755); // sshd reads authorized_keys as the login user
    const workDir = join(dir, 'work');
    mkdirSync(workDir, { mode: 0o777 });
    chmodSync(workDir, 0o777);
    execFileSync('ssh-keygen', ['-q', '-t', 'ed25519', '-N', '', '-f', join(dir, 'host_ed25519')]);
    execFileSync('ssh-keygen', ['-q', '-t', 'ed25519', '-N', '', '-f', join(dir, 'engine')]);
    writeFileSync(join(dir, 'authorized_keys'), readFileSync(join(dir, 'engine.pub')), { mode: 0o644 });
    if (process.getuid?.() === 0 && !existsSync('/run/sshd')) mkdirSync('/run/sshd', { mode: 0o755 });
    const port = await freePort();
    const cfg = join(dir, 'sshd_config');
    writeFileSync(
      cfg,
      [
        `Port ${port}`,
        'ListenAddress 127.0.0.1',
        `HostKey ${join(dir, 'host_ed25519')}`,
        `PidFile ${join(dir, 'sshd.pid')}`,
        `AuthorizedKeysFile ${join(dir, 'authorized_keys')}`,
        'StrictModes no',
        'UsePAM no',
        'PasswordAuthentication no',
        'KbdInteractiveAuthentication no',
        'PubkeyAuthentication yes',
        `AllowUsers ${username}`,
        'PermitRootLogin prohibit-password',
        'PrintMotd no',
        'PrintLastLog no',
        'MaxSessions 10',
        'LogLevel ERROR',
        '',
      ].join('\n'),
    );
    const hostKeyBlob = Buffer.from(
      readFileSync(join(dir, 'host_ed25519.pub'), 'utf8').split(' ')[1] ?? '',
      'base64',
    );
    let stderr = '';
    const start = async () => {
      stderr = '';
      const c = spawn('/usr/sbin/sshd', ['-D', '-e', '-f', cfg], { stdio: ['ignore', 'ignore', 'pipe'] });
      child = c;
      c.stderr?.on('data', (b: Buffer) => {
        stderr += b.toString();
      });
      for (let i = 0; i < 200; i++) {
        if (c.exitCode !== null) throw new Error(`sshd exited ${c.exitCode}: ${stderr}`);
        if (await isPortOpen('127.0.0.1', port, 500)) return;
        await new Promise((r) => setTimeout(r, 25));
      }
      throw new Error(`sshd did not listen on ${port}: ${stderr}`);
    };
    const stop = async () => {
      const c = child;
      if (!c || c.exitCode !== null) return;
      // The listener's per-connection children outlive it; a node going down takes them too.
      const sessions = sessionPids(c.pid);
      const exited = new Promise((r) => c.once('exit', r));
      c.kill('SIGTERM');
      await exited;
      for (const pid of sessions) {
        try {
          process.kill(pid, 'SIGKILL');
        } catch {
          // already gone
        }
      }
    };
    await start();
    return {
      dir,
      workDir,
      port,
      username,
      engineKey: readFileSync(join(dir, 'engine'), 'utf8'),
      hostKeyBlob,
      restart: async () => {
        await stop();
        await start();
      },
      stop: async () => {
        await stop();
        rmSync(dir, { recursive: true, force: true });
      },
    };
  } catch (e) {
    child?.kill('SIGKILL');
    rmSync(dir, { recursive: true, force: true });
    throw e;
  }
}
