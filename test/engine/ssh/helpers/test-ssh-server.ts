import { spawn } from 'node:child_process';
import { createServer, type Server as NetServer, type Socket } from 'node:net';
import ssh2, { type ParsedKey, type ServerChannel } from 'ssh2';

const { Server, utils } = ssh2;

/**
 * A real SSH server in the test process: ssh2's Server fed by our own TCP listener (so a test can
 * cut sockets abruptly, as a node losing power would), public key auth against one key, and exec
 * requests run for real with `sh -c`. It counts what a test asserts on: connections, channels open
 * at once, signals received.
 */
export interface TestSshServer {
  host: string;
  port: number;
  /** The server's host key as an SSH public key blob (what a HostKeyStore pins). */
  hostKeyBlob: Buffer;
  stats: {
    connections: number;
    activeChannels: number;
    maxActiveChannels: number;
    channelsClosed: number;
    signals: string[];
    execs: string[];
  };
  /** Cuts every TCP connection at once (a node rebooting). */
  dropAll(): void;
  /** Stops reading every connection, keeping the sockets open (a node that hangs). */
  freezeAll(): void;
  close(): Promise<void>;
}

export interface TestSshServerOptions {
  authorizedKey: ParsedKey;
  hostKey?: string | Buffer;
  /** Refuse exec requests beyond this many open channels per connection. */
  maxSessions?: number;
  host?: string;
  port?: number;
}

/**
 * A fresh ed25519 key pair. ssh2 1.17's generateKeyPairSync('ed25519') emits a malformed key about
 * once in 200 (a 31-byte public key: a leading zero byte is lost) that its own parseKey rejects,
 * so draw again until both halves parse.
 */
export function newEd25519(): { private: string; public: string } {
  for (;;) {
    const kp = utils.generateKeyPairSync('ed25519');
    const pub = utils.parseKey(kp.public);
    const priv = utils.parseKey(kp.private);
    if (!(pub instanceof Error) && !(priv instanceof Error)) return kp;
  }
}

export function generateKey(): { privateKey: string; publicKey: ParsedKey; publicSsh: string } {
  const kp = newEd25519();
  const pub = utils.parseKey(kp.public);
  if (pub instanceof Error || Array.isArray(pub)) throw new Error('bad generated key');
  return { privateKey: kp.private, publicKey: pub, publicSsh: kp.public };
}

export function publicBlobOf(privateKey: string | Buffer): Buffer {
  const k = utils.parseKey(privateKey);
  if (k instanceof Error || Array.isArray(k)) throw new Error('bad key');
  return k.getPublicSSH();
}

export async function startTestSshServer(o: TestSshServerOptions): Promise<TestSshServer> {
  const hostKey = o.hostKey ?? newEd25519().private;
  const stats: TestSshServer['stats'] = {
    connections: 0,
    activeChannels: 0,
    maxActiveChannels: 0,
    channelsClosed: 0,
    signals: [],
    execs: [],
  };
  const sockets = new Set<Socket>();
  const authBlob = o.authorizedKey.getPublicSSH();
  const ssh = new Server(
    { hostKeys: [hostKey], debug: process.env.SSHDBG ? (m: string) => console.log(m) : undefined },
    (client) => {
      stats.connections++;
      let open = 0;
      client.on('error', () => {});
      client.on('authentication', (ctx) => {
        if (
          ctx.method !== 'publickey' ||
          ctx.key.algo !== o.authorizedKey.type ||
          !ctx.key.data.equals(authBlob)
        ) {
          return ctx.reject(['publickey']);
        }
        if (ctx.signature && ctx.blob) {
          if (o.authorizedKey.verify(ctx.blob, ctx.signature, ctx.hashAlgo) !== true)
            return ctx.reject(['publickey']);
        }
        ctx.accept();
      });
      client.on('session', (acceptSession) => {
        const session = acceptSession();
        let child: ReturnType<typeof spawn> | undefined;
        session.on('signal', (_accept, _reject, info) => {
          stats.signals.push(info.name);
          child?.kill(`SIG${info.name}` as NodeJS.Signals);
        });
        session.on('exec', (accept, reject, info) => {
          if (o.maxSessions !== undefined && open >= o.maxSessions) return reject?.();
          const channel: ServerChannel = accept();
          open++;
          stats.execs.push(info.command);
          stats.activeChannels++;
          stats.maxActiveChannels = Math.max(stats.maxActiveChannels, stats.activeChannels);
          channel.on('error', () => {});
          channel.once('close', () => {
            open--;
            stats.activeChannels--;
            stats.channelsClosed++;
            child?.kill('SIGKILL');
          });
          const c = spawn('sh', ['-c', info.command], { stdio: 'pipe' });
          child = c;
          c.stdin.on('error', () => {});
          channel.pipe(c.stdin);
          c.stdout.pipe(channel, { end: false });
          c.stderr.pipe(channel.stderr, { end: false });
          c.on('close', (code, signal) => {
            // Drain what the client still sends: ssh2 emits the channel's 'close' only after its
            // readable side ended, and the child's stdin is gone.
            channel.unpipe(c.stdin);
            channel.resume();
            if (code !== null) channel.exit(code);
            else channel.exit(signal?.replace(/^SIG/, '') ?? 'KILL', false, '');
            channel.end();
          });
        });
      });
    },
  );
  const tcp: NetServer = createServer((sock) => {
    sockets.add(sock);
    sock.once('close', () => sockets.delete(sock));
    ssh.injectSocket(sock);
  });
  await new Promise<void>((resolve) => tcp.listen(o.port ?? 0, o.host ?? '127.0.0.1', resolve));
  const addr = tcp.address();
  if (addr === null || typeof addr === 'string') throw new Error('no address');
  return {
    host: o.host ?? '127.0.0.1',
    port: addr.port,
    hostKeyBlob: publicBlobOf(hostKey),
    stats,
    dropAll: () => {
      for (const s of sockets) s.destroy();
    },
    freezeAll: () => {
      for (const s of sockets) s.pause();
    },
    close: async () => {
      for (const s of sockets) s.destroy();
      await new Promise<void>((resolve) => tcp.close(() => resolve()));
    },
  };
}
