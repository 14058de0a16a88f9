import { type ChildProcess, spawn } from 'node:child_process';
import { randomBytes } from 'node:crypto';
import { EventEmitter } from 'node:events';
import { createServer, type Server, type Socket } from 'node:net';
import { PassThrough } from 'node:stream';

/**
 * A small Node process that starts the sandboxes: a fork from the big daemon would block its event
 * loop for a time growing with its memory (see docs/decisions/0006-sandbox-spawn-helper.md).
 *
 * Each sandbox's stdin, stdout and stderr are Unix socket connections from the helper to the
 * daemon, handed to the sandbox as its fds: its bytes never pass through the helper. Each
 * connection opens with `TOKEN ID FD\n`; the token (random, known only to the daemon and the
 * helper over their IPC channel) keeps a sandboxed process, which shares the network namespace
 * and so could reach the abstract socket, from posing as another sandbox's stdio.
 */
const HELPER_SOURCE = String.raw`
const { spawn } = require('node:child_process');
const { connect } = require('node:net');
const send = (m) => { if (process.connected) process.send(m); };
// A full listen backlog (thousands of sandboxes starting at once) refuses with EAGAIN: retry.
const open = async (path, header, made) => {
  const t0 = Date.now();
  for (let delay = 2; ; delay = Math.min(delay * 2, 100)) {
    try {
      return await new Promise((resolve, reject) => {
        const s = connect(path);
        made.push(s);
        s.once('error', reject);
        s.once('connect', () => s.write(header, (e) => (e ? reject(e) : resolve(s))));
      });
    } catch (e) {
      if (e.code !== 'EAGAIN' || Date.now() - t0 > 60000) throw e;
      await new Promise((r) => setTimeout(r, delay));
    }
  }
};
// At most MAX_STARTING sandboxes being connected and forked at once: thousands of requests
// arriving together would otherwise overflow the daemon's listen backlog.
const MAX_STARTING = 16;
let starting = 0;
const queue = [];
const pump = () => {
  while (starting < MAX_STARTING && queue.length > 0) {
    starting++;
    start(queue.shift()).finally(() => {
      starting--;
      pump();
    });
  }
};
process.on('message', (m) => {
  if (m.op !== 'spawn') return;
  queue.push(m);
  pump();
});
const start = async (m) => {
  const made = [];
  let socks = [];
  try {
    socks = await Promise.all([0, 1, 2].map((fd) => open(m.socket, m.token + ' ' + m.id + ' ' + fd + '\n', made)));
    for (const s of socks) s.on('error', () => {});
    const child = spawn(m.file, m.args, { stdio: socks, detached: true, env: m.env });
    for (const s of socks) s.destroy();
    child.on('error', (e) => send({ op: 'error', id: m.id, message: e.message }));
    child.on('exit', (code, signal) => send({ op: 'exit', id: m.id, code, signal }));
    if (child.pid !== undefined) send({ op: 'spawned', id: m.id, pid: child.pid });
  } catch (e) {
    for (const s of made) s.destroy();
    send({ op: 'error', id: m.id, message: e.message });
  }
};
process.on('disconnect', () => process.exit(0));
`;

type HelperMessage =
  | { op: 'spawned'; id: number; pid: number }
  | { op: 'exit'; id: number; code: number | null; signal: NodeJS.Signals | null }
  | { op: 'error'; id: number; message: string };

/** A sandbox started by the helper, shaped like the part of ChildProcess the node uses. */
export class HelperChild extends EventEmitter {
  readonly stdin = new PassThrough();
  readonly stdout = new PassThrough();
  readonly stderr = new PassThrough();
  pid: number | undefined;
  exitCode: number | null = null;
  signalCode: NodeJS.Signals | null = null;
  killed = false;
  /** Sockets still to come (3), streams still open (stdout, stderr), and the exit. */
  sockets: (Socket | undefined)[] = [undefined, undefined, undefined];
  private openStreams = 2;
  private exited = false;
  private closed = false;

  /** SIGKILL to the sandbox's process group, now or as soon as its pid is known. */
  killGroup(): void {
    this.killed = true;
    if (this.pid === undefined || this.exited) return;
    try {
      process.kill(-this.pid, 'SIGKILL');
    } catch {
      // already gone
    }
  }

  attach(fd: number, sock: Socket): void {
    if (this.exited && this.pid === undefined) {
      sock.destroy(); // failed before this connection arrived
      return;
    }
    this.sockets[fd] = sock;
    sock.on('error', (e) => {
      // EPIPE on stdin: the command exited before reading all its input, as with a pipe.
      if (fd === 0) this.stdin.destroy(e);
    });
    if (fd === 0) {
      // Written only once the sandbox holds this socket (the helper's copy is closed by then).
      if (this.pid !== undefined) this.stdin.pipe(sock);
      return;
    }
    const out = fd === 1 ? this.stdout : this.stderr;
    sock.pipe(out);
    out.once('end', () => this.streamEnded());
    sock.once('close', () => {
      if (!out.writableEnded) out.end();
    });
  }

  spawned(pid: number): void {
    this.pid = pid;
    if (this.sockets[0]) this.stdin.pipe(this.sockets[0]);
    if (this.killed) this.killGroup();
  }

  exit(code: number | null, signal: NodeJS.Signals | null): void {
    if (this.exited) return;
    this.exited = true;
    this.exitCode = code;
    this.signalCode = signal;
    this.emit('exit', code, signal);
    this.maybeClose();
  }

  fail(message: string): void {
    const e = new Error(`cannot start the sandbox: ${message}`);
    this.emit('error', e);
    for (const s of this.sockets) s?.destroy();
    this.stdout.end();
    this.stderr.end();
    this.exit(127, null);
  }

  private streamEnded(): void {
    this.openStreams--;
    this.maybeClose();
  }

  private maybeClose(): void {
    if (this.closed || !this.exited || this.openStreams > 0) return;
    this.closed = true;
    this.sockets[0]?.destroy();
    this.emit('close', this.exitCode, this.signalCode);
  }
}

/** One helper per daemon process, started on first use and again if it dies. */
class SpawnHelper {
  private proc: ChildProcess | undefined;
  private server: Server | undefined;
  private path = '';
  private readonly token = randomBytes(16).toString('hex');
  private nextId = 1;
  private readonly live = new Map<number, HelperChild>();

  spawn(file: string, args: string[], env: Record<string, string>): HelperChild {
    const child = new HelperChild();
    const id = this.nextId++;
    this.live.set(id, child);
    child.once('close', () => this.live.delete(id));
    const proc = this.ensure();
    proc.send({ op: 'spawn', id, socket: this.path, token: this.token, file, args, env }, (e) => {
      if (e) this.onMessage({ op: 'error', id, message: e.message });
    });
    return child;
  }

  private ensure(): ChildProcess {
    if (this.proc?.connected) return this.proc;
    if (!this.server) {
      this.path = `\0kaploy-spawn-${process.pid}-${this.token.slice(0, 8)}`;
      this.server = createServer((sock) => this.onConnection(sock));
      this.server.listen({ path: this.path, backlog: 4096 });
      this.server.unref();
    }
    const proc = spawn(process.execPath, ['--max-old-space-size=64', '-e', HELPER_SOURCE], {
      stdio: ['ignore', 'ignore', 'inherit', 'ipc'],
    });
    proc.on('message', (m: HelperMessage) => this.onMessage(m));
    proc.on('error', () => {});
    proc.on('exit', () => {
      if (this.proc === proc) this.proc = undefined;
      // Its sandboxes died with it (bubblewrap's --die-with-parent); tell their owners.
      for (const [, c] of this.live)
        if (c.exitCode === null && c.signalCode === null) c.fail('the spawn helper exited');
    });
    // The helper must not keep the daemon (or a test worker) alive; it exits when we do.
    proc.unref();
    proc.channel?.unref();
    this.proc = proc;
    return proc;
  }

  private onMessage(m: HelperMessage): void {
    const c = this.live.get(m.id);
    if (!c) return;
    if (m.op === 'spawned') c.spawned(m.pid);
    else if (m.op === 'exit') c.exit(m.code, m.signal);
    else c.fail(m.message);
  }

  private onConnection(sock: Socket): void {
    let head = '';
    const onData = (d: Buffer) => {
      head += d.toString('latin1');
      const nl = head.indexOf('\n');
      if (nl < 0) {
        if (head.length > 200) sock.destroy();
        return;
      }
      sock.off('data', onData);
      sock.pause();
      const [token, id, fd] = head.slice(0, nl).split(' ');
      const rest = Buffer.from(head.slice(nl + 1), 'latin1');
      const c = token === this.token ? this.live.get(Number(id)) : undefined;
      const n = Number(fd);
      if (!c || !(n === 0 || n === 1 || n === 2) || c.sockets[n]) {
        sock.destroy();
        return;
      }
      if (rest.length > 0) sock.unshift(rest);
      c.attach(n, sock);
    };
    sock.on('data', onData);
    sock.on('error', () => {});
  }
}

const helper = new SpawnHelper();

/** Starts `file args` (bubblewrap) from the helper process, in its own process group. */
export function spawnViaHelper(file: string, args: string[], env: Record<string, string>): HelperChild {
  return helper.spawn(file, args, env);
}
