import { connect, createServer, type Socket } from 'node:net';
import { PassThrough, Transform } from 'node:stream';
import { setTimeout as sleep } from 'node:timers/promises';
import type { ServerChannel } from 'ssh2';
import type { BootedSystem } from './booted-system.js';
import { finishChannel, writeStderr } from './channel-io.js';
import { type CommandFaults, diskWritePath } from './command-faults.js';
import type { NodeRuntime } from './node-runtime.js';
import { killSandboxed, spawnSandboxed } from './sandbox-process.js';
import { paced } from './token-bucket.js';

export interface RelayCommand {
  port: number;
  next: { host: string; port: number }[];
  sink: string;
}

/** The engine starts every relay at once: a child may not listen yet when the stream arrives. */
const CONNECT_RETRY_MS = 5_000;
const CONNECT_BACKOFF_MS = 50;

/**
 * `kaploy-relay`, a built-in of the deployment environment (one stage of a chain or tree
 * broadcast; contract in src/formats/node-commands.ts and docs/steps.md): listens on the node's
 * address, prints `kaploy-relay: listening on ADDR:PORT` on stderr, accepts one upstream
 * connection, then connects (from its own address, retrying refused connects) to each next and
 * copies every byte to each of them and to the sink command run in the sandbox. Both directions
 * go through the node's NIC model (each forwarded copy uses the node's outbound rate). A next
 * that fails is dropped with a message on stderr; the exit status is the sink's, non-zero if the
 * upstream broke before EOF (the children then see their stream reset, not a clean end).
 * Returns how to kill it (SSH signal).
 */
export function runRelay(
  rt: NodeRuntime,
  system: BootedSystem,
  channel: ServerChannel,
  cmd: RelayCommand,
  faults: CommandFaults,
  dropConnection: () => void,
): () => void {
  const server = createServer();
  const downstreams: Socket[] = [];
  let upstream: Socket | undefined;
  let sink: ReturnType<typeof spawnSandboxed> | undefined;
  let finished = false;
  const finish = (code: number | null, signal?: NodeJS.Signals) => {
    if (finished) return;
    finished = true;
    server.close();
    upstream?.destroy();
    for (const d of downstreams) d.destroy();
    if (sink) killSandboxed(sink);
    finishChannel(channel, code, signal);
  };
  channel.on('close', () => finish(1));
  channel.resume(); // the relay's data arrives on its TCP port, not on stdin

  server.on('error', (e) => {
    writeStderr(channel, `kaploy-relay: cannot listen on ${rt.address}:${cmd.port}: ${e.message}`);
    finish(1);
  });
  server.listen({ host: rt.address, port: cmd.port }, () =>
    writeStderr(channel, `kaploy-relay: listening on ${rt.address}:${cmd.port}`),
  );
  server.on('connection', (sock) => {
    if (upstream) {
      sock.destroy(); // one upstream per relay
      return;
    }
    upstream = sock;
    server.close();
    start(sock);
  });

  function start(up: Socket): void {
    let sinkExit: number | undefined;
    let pendingNext = cmd.next.length;
    let broken = false;
    const maybeDone = () => {
      if (sinkExit === undefined || pendingNext > 0) return;
      finish(broken && sinkExit === 0 ? 1 : sinkExit);
    };

    const received = paced(up, [rt.nicIn]);
    let ended = false;
    up.on('end', () => {
      ended = true;
    });
    up.on('error', () => {});
    up.on('close', () => {
      if (ended || finished) return;
      // Broken before EOF: the sink may have seen a truncated but valid-looking stream.
      broken = true;
      writeStderr(channel, 'kaploy-relay: the upstream connection broke before the end of the stream');
      for (const d of downstreams) d.resetAndDestroy();
      received.unpipe(toSink);
      toSink.end();
    });

    // The sink's tap: once the sink is gone (died early), its share of the stream is dropped so
    // the children keep receiving and the upstream keeps being drained.
    let sinkAlive = true;
    const toSink = new Transform({
      transform(chunk: Buffer, _enc, cb) {
        cb(null, sinkAlive ? chunk : undefined);
      },
    });
    const sinkGone = () => {
      if (!sinkAlive) return;
      sinkAlive = false;
      toSink.unpipe();
      toSink.resume();
    };
    received.pipe(toSink);
    sink = spawnSandboxed(system.sandboxSpec(['sh', '-c', cmd.sink]));
    const untrack = rt.track(sink);
    sink.stdin.on('error', sinkGone);
    diskWritePath(toSink, faults, rt.diskBucket, dropConnection).pipe(sink.stdin);
    paced(sink.stdout, [rt.nicOut]).pipe(channel, { end: false });
    paced(sink.stderr, [rt.nicOut]).pipe(channel.stderr, { end: false });
    sink.on('error', (e) => writeStderr(channel, `kaploy-relay: cannot start the sink: ${e.message}`));
    sink.on('close', (code) => {
      untrack();
      sinkGone();
      // As for any sandboxed command: what the sink extracted is swept before its status counts.
      void rt.sweepSetId().then((failure) => {
        if (failure) writeStderr(channel, `kaploy-relay: ${failure}`);
        sinkExit = failure && code === 0 ? 1 : (code ?? 1);
        maybeDone();
      });
    });

    for (const next of cmd.next) {
      const toNext = new PassThrough();
      received.pipe(toNext);
      const out = paced(toNext, [rt.nicOut]);
      // Served = we ended the stream ourselves and every byte left; a socket also "finishes" when
      // the child closes first (Node then ends our side), which is a failure.
      let allSent = false;
      out.once('end', () => {
        allSent = true;
      });
      let done = false;
      const settle = (failure?: string) => {
        if (done) return;
        done = true;
        if (failure !== undefined) {
          writeStderr(channel, `kaploy-relay: forwarding to ${next.host}:${next.port} failed: ${failure}`);
          // A dropped child must not hold back the sink and the other children.
          received.unpipe(toNext);
          toNext.unpipe();
          toNext.resume();
        }
        pendingNext--;
        maybeDone();
      };
      connectWithRetry(next, rt.address, () => finished).then(
        (down) => {
          if (finished) return void down.destroy();
          downstreams.push(down);
          down.on('error', (e) => settle(e.message));
          down.on('finish', () => settle(allSent ? undefined : 'connection closed early'));
          down.on('close', () => settle(allSent || broken ? undefined : 'connection closed early'));
          out.pipe(down);
        },
        (e: Error) => settle(e.message),
      );
    }
  }

  return () => finish(null, 'SIGKILL');
}

async function connectWithRetry(
  to: { host: string; port: number },
  localAddress: string,
  cancelled: () => boolean,
): Promise<Socket> {
  const deadline = Date.now() + CONNECT_RETRY_MS;
  for (;;) {
    try {
      return await new Promise<Socket>((resolve, reject) => {
        const s = connect({ host: to.host, port: to.port, localAddress });
        s.once('connect', () => {
          s.off('error', reject);
          resolve(s);
        });
        s.once('error', reject);
      });
    } catch (e) {
      const code = (e as NodeJS.ErrnoException).code;
      if (code !== 'ECONNREFUSED' || Date.now() >= deadline || cancelled()) throw e;
      await sleep(CONNECT_BACKOFF_MS);
    }
  }
}
