import { connect, createServer, type Socket } from 'node:net';
import { PassThrough } from 'node:stream';
import type { ServerChannel } from 'ssh2';
import type { BootedSystem } from './booted-system.js';
import { finishChannel, writeStderr } from './channel-io.js';
import { type CommandFaults, diskWritePath } from './command-faults.js';
import type { NodeRuntime } from './node-runtime.js';
import { killSandboxed, spawnSandboxed } from './sandbox-process.js';
import { throttle } from './token-bucket.js';

export interface RelayCommand {
  port: number;
  next?: { host: string; port: number };
  sink: string;
}

/**
 * `kaploy-relay`, a built-in of the deployment environment (one stage of a chain broadcast):
 * listens on the node's address, accepts one upstream connection, forwards every byte to the
 * next node (if any) while feeding it to the sink command run in the sandbox. Both directions go
 * through the node's NIC model. Prints `kaploy-relay: listening on ADDR:PORT` on stderr once
 * ready; exits with the sink's status, or 1 if forwarding to the next node failed.
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
  let upstream: Socket | undefined;
  let downstream: Socket | undefined;
  let sink: ReturnType<typeof spawnSandboxed> | undefined;
  let finished = false;
  const finish = (code: number | null, signal?: NodeJS.Signals) => {
    if (finished) return;
    finished = true;
    server.close();
    upstream?.destroy();
    downstream?.destroy();
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

  return () => finish(null, 'SIGKILL');

  function start(up: Socket): void {
    let forwardFailed = false;
    let sinkExit: number | undefined;
    let downstreamDone = cmd.next === undefined;
    const maybeDone = () => {
      if (sinkExit === undefined || !downstreamDone) return;
      finish(sinkExit !== 0 ? sinkExit : forwardFailed ? 1 : 0);
    };
    const received = up.pipe(throttle([rt.nicIn]));
    up.on('error', () => {});

    const toSink = new PassThrough();
    received.pipe(toSink);
    sink = spawnSandboxed(system.sandboxSpec(['sh', '-c', cmd.sink]));
    const untrack = rt.track(sink);
    sink.stdin.on('error', () => {});
    diskWritePath(toSink, faults, rt.diskBucket, dropConnection).pipe(sink.stdin);
    sink.stdout.pipe(throttle([rt.nicOut])).pipe(channel, { end: false });
    sink.stderr.pipe(throttle([rt.nicOut])).pipe(channel.stderr, { end: false });
    sink.on('error', (e) => writeStderr(channel, `kaploy-relay: cannot start the sink: ${e.message}`));
    sink.on('close', (code) => {
      untrack();
      sinkExit = code ?? 1;
      maybeDone();
    });

    if (cmd.next) {
      const toNext = new PassThrough();
      received.pipe(toNext);
      const down = connect({ host: cmd.next.host, port: cmd.next.port, localAddress: rt.address });
      downstream = down;
      const fail = (why: string) => {
        if (forwardFailed || downstreamDone) return;
        forwardFailed = true;
        downstreamDone = true;
        writeStderr(
          channel,
          `kaploy-relay: forwarding to ${cmd.next?.host}:${cmd.next?.port} failed: ${why}`,
        );
        received.unpipe(toNext);
        toNext.resume();
        maybeDone();
      };
      down.on('error', (e) => fail(e.message));
      down.on('close', () => {
        if (!downstreamDone && !toNext.writableEnded) fail('connection closed early');
        downstreamDone = true;
        maybeDone();
      });
      toNext.pipe(throttle([rt.nicOut])).pipe(down);
    }
  }
}
