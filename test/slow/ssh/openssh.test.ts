import { createHash } from 'node:crypto';
import { readFileSync } from 'node:fs';
import { join } from 'node:path';
import { Readable, Writable } from 'node:stream';
import ssh2 from 'ssh2';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { shq } from '../../../src/common/shell-quote.js';
import { MemoryHostKeyStore, SshPool, type SshTarget } from '../../../src/engine/ssh/index.js';
import { newEd25519 } from '../../engine/ssh/helpers/test-ssh-server.js';
import { type OpenSshServer, startOpenSsh } from './helpers/openssh-server.js';

async function eventually(cond: () => boolean, ms = 10_000): Promise<void> {
  const end = Date.now() + ms;
  while (!cond()) {
    if (Date.now() > end) throw new Error('condition not reached');
    await new Promise((r) => setTimeout(r, 20));
  }
}

/**
 * Whether the process still runs. A killed process stays a zombie until its parent reaps it, and
 * when sshd's session process exits first, the zombie waits for PID 1 (here a container runtime
 * that may reap late): killed is what counts, so a zombie is dead.
 */
function alive(pid: number): boolean {
  try {
    process.kill(pid, 0);
  } catch {
    return false;
  }
  try {
    const stat = readFileSync(`/proc/${pid}/stat`, 'utf8');
    return stat.slice(stat.lastIndexOf(')') + 2, stat.lastIndexOf(')') + 3) !== 'Z';
  } catch {
    return false;
  }
}

describe('SshPool against Debian OpenSSH', () => {
  let sshd: OpenSshServer;
  let pool: SshPool;
  let target: SshTarget;
  let store: MemoryHostKeyStore;

  beforeAll(async () => {
    sshd = await startOpenSsh();
    store = new MemoryHostKeyStore();
    pool = new SshPool({ privateKey: sshd.engineKey, hostKeys: store });
    target = { node: 'node-1', host: '127.0.0.1', port: sshd.port, username: sshd.username };
    await pool.exec(target, 'true', { trustOnFirstUse: true });
  });
  afterAll(async () => {
    await pool?.closeAll();
    await sshd?.stop();
  });

  it('learnt the real host key on first use', () => {
    expect(store.get('node-1')?.equals(sshd.hostKeyBlob)).toBe(true);
  });

  it('runs a command: stdout, stderr, exit code, as the login user', async () => {
    const r = await pool.exec(target, 'id -un; echo oops >&2; exit 4');
    expect(r).toEqual({ exitCode: 4, stdout: `${sshd.username}\n`, stderr: 'oops\n' });
  });

  it('passes quoted user values verbatim through the remote shell', async () => {
    const v = `a'b "c" $(id) \`x\` ; | & * ?`;
    expect((await pool.exec(target, `printf %s ${shq(v)}`)).stdout).toBe(v);
  });

  it('streams 16 MiB of stdin and checks it arrived intact', async () => {
    const total = 16 * 1024 * 1024;
    const chunk = Buffer.alloc(256 * 1024);
    for (let i = 0; i < chunk.length; i++) chunk[i] = i % 251;
    const h = createHash('sha256');
    let sent = 0;
    const src = new Readable({
      read() {
        if (sent >= total) return this.push(null);
        sent += chunk.length;
        h.update(chunk);
        this.push(chunk);
      },
    });
    const r = await pool.exec(target, 'sha256sum', { stdin: src });
    expect(r.stdout.split(' ')[0]).toBe(h.digest('hex'));
  });

  it('streams stdout into a Writable', async () => {
    let n = 0;
    const sink = new Writable({
      write(c: Buffer, _e, cb) {
        n += c.length;
        cb();
      },
    });
    const r = await pool.exec(target, 'head -c 5000000 /dev/zero', { stdout: sink });
    expect(r.exitCode).toBe(0);
    expect(n).toBe(5_000_000);
  });

  it('reuses one connection: every command sees the same client port', async () => {
    const ports = new Set<string>();
    for (let i = 0; i < 5; i++)
      ports.add((await pool.exec(target, 'echo "$SSH_CLIENT"')).stdout.split(' ')[1] ?? '');
    expect(ports.size).toBe(1);
  });

  it('runs more concurrent commands than the channel bound on one connection (MaxSessions 10)', async () => {
    const rs = await Promise.all(
      Array.from({ length: 24 }, (_, i) => pool.exec(target, `sleep 0.2; echo ${i}`)),
    );
    expect(rs.map((r) => r.stdout.trim())).toEqual(Array.from({ length: 24 }, (_, i) => String(i)));
  });

  it('keeps up with fast channel turnover (sshd frees closed sessions a loop later)', async () => {
    const rs = await Promise.all(Array.from({ length: 80 }, (_, i) => pool.exec(target, `echo ${i}`)));
    expect(rs.map((r) => r.stdout)).toEqual(Array.from({ length: 80 }, (_, i) => `${i}\n`));
  });

  it('on timeout kills the remote command (signal to its process group) and reports timeout', async () => {
    const pidFile = join(sshd.workDir, 'sleep.pid');
    const err = await pool
      .exec(target, `sleep 60 & echo $! > ${shq(pidFile)}; wait`, { timeoutMs: 1500 })
      .catch((e: unknown) => e);
    expect(err).toMatchObject({ name: 'SshError', kind: 'timeout', node: 'node-1' });
    const pid = Number(readFileSync(pidFile, 'utf8'));
    await eventually(() => !alive(pid));
    expect((await pool.exec(target, 'echo still-usable')).stdout).toBe('still-usable\n');
  });

  it('on abort kills the remote command and reports aborted', async () => {
    const pidFile = join(sshd.workDir, 'abort.pid');
    const ac = new AbortController();
    const p = pool.exec(target, `echo $$ > ${shq(pidFile)}; sleep 60`, { signal: ac.signal });
    await eventually(() => {
      try {
        return readFileSync(pidFile, 'utf8').trim() !== '';
      } catch {
        return false;
      }
    });
    ac.abort();
    await expect(p).rejects.toMatchObject({ kind: 'aborted', node: 'node-1' });
    const pid = Number(readFileSync(pidFile, 'utf8'));
    await eventually(() => !alive(pid));
  });

  it('reconnects after the node went down and came back (same host key)', async () => {
    await pool.exec(target, 'true');
    await sshd.restart();
    expect((await pool.exec(target, 'echo back')).stdout).toBe('back\n');
  });

  it('reports connection_lost when the node goes down mid-command', async () => {
    const p = pool.exec(target, 'sleep 30').catch((e: unknown) => e);
    await new Promise((r) => setTimeout(r, 300));
    await sshd.restart();
    expect(await p).toMatchObject({ kind: 'connection_lost', node: 'node-1' });
  });

  it('refuses a host key that does not match the pin', async () => {
    const other = new MemoryHostKeyStore();
    const k = ssh2.utils.parseKey(newEd25519().public);
    if (k instanceof Error || Array.isArray(k)) throw k;
    other.learn('node-1', k.getPublicSSH());
    const p2 = new SshPool({ privateKey: sshd.engineKey, hostKeys: other });
    await expect(p2.exec(target, 'true', { trustOnFirstUse: true })).rejects.toMatchObject({
      kind: 'host_key_mismatch',
    });
    await p2.closeAll();
  });

  it('reports auth_failed for a key sshd does not authorise', async () => {
    const p2 = new SshPool({
      privateKey: newEd25519().private,
      hostKeys: store,
    });
    await expect(p2.exec(target, 'true')).rejects.toMatchObject({ kind: 'auth_failed', node: 'node-1' });
    await p2.closeAll();
  });
});
