import type { Readable } from 'node:stream';
import type { ServerChannel } from 'ssh2';
import type { BootedSystem } from './booted-system.js';
import { finishChannel, writeStderr } from './channel-io.js';
import type { NodeRuntime } from './node-runtime.js';
import { killSandboxed, spawnSandboxed } from './sandbox-process.js';
import { paced } from './token-bucket.js';

/**
 * Runs `argv` for real in the booted system's sandbox with the channel as its stdio: `input`
 * (the channel's data after the NIC and disk models) feeds stdin, stdout/stderr go back through
 * the NIC model, the exit status is propagated, and closing the channel kills the sandbox.
 */
export function runOnChannel(
  rt: NodeRuntime,
  system: BootedSystem,
  channel: ServerChannel,
  argv: string[],
  input: Readable,
): () => void {
  const child = spawnSandboxed(system.sandboxSpec(argv));
  const untrack = rt.track(child);
  let pending = 3; // child closed, stdout flushed, stderr flushed
  let exit: { code: number | null; signal: NodeJS.Signals | null } = { code: null, signal: null };
  const done = () => {
    if (--pending > 0) return;
    untrack();
    finishChannel(channel, exit.code, exit.signal);
  };
  child.stdin.on('error', () => {}); // EPIPE when the command exits before reading all its input
  input.on('error', () => {});
  input.pipe(child.stdin);
  const out = paced(child.stdout, [rt.nicOut]);
  const err = paced(child.stderr, [rt.nicOut]);
  out.pipe(channel, { end: false });
  err.pipe(channel.stderr, { end: false });
  out.on('end', done);
  err.on('end', done);
  child.on('error', (e) => {
    writeStderr(channel, `virtual node: cannot start the sandbox: ${e.message}`);
    exit = { code: 126, signal: null };
  });
  child.on('close', (code, signal) => {
    exit = { code, signal };
    input.unpipe(child.stdin);
    // The exit status goes out only once what the command wrote is swept: when the engine sees
    // an extraction done, no setuid file of it is left on the host disk.
    void rt.sweepSetId().then((failure) => {
      if (failure) {
        writeStderr(channel, `virtual node: ${failure}`);
        if (exit.code === 0) exit = { code: 1, signal: null };
      }
      done();
    });
  });
  channel.on('close', () => killSandboxed(child));
  return () => killSandboxed(child);
}
