import type { ClientChannel } from 'ssh2';
import { type NodeConnection, NotStartedError } from './connection.js';
import type { Deadline } from './deadline.js';
import { sendSignal } from './send-signal.js';
import { SshError } from './ssh-error.js';
import { TailBuffer } from './tail-buffer.js';
import type { ExecOptions, ExecResult } from './types.js';

/**
 * Runs one command on a channel of an open connection (the caller holds a channel slot).
 * Resolves on the channel's 'close' (after stdout has ended), not on 'exit', so no output is lost.
 * On the deadline: signal the command (OpenSSH >= 7.9 kills the session's process group), close
 * the channel, then retire the connection (it ends once the node's other channels finish).
 */
export function runCommand(
  conn: NodeConnection,
  command: string,
  o: ExecOptions,
  deadline: Deadline,
  captureLimit: number,
): Promise<ExecResult> {
  const node = conn.target.node;
  return new Promise<ExecResult>((resolve, reject) => {
    let channel: ClientChannel | undefined;
    let done = false;
    let exitCode: number | null = null;
    let exitSignal: string | undefined;
    let gotExit = false;
    const out = new TailBuffer(captureLimit);
    const err = new TailBuffer(captureLimit);
    const stdinStream = o.stdin !== undefined && !isBufferLike(o.stdin) ? o.stdin : undefined;

    let retryTimer: NodeJS.Timeout | undefined;
    const cleanup = () => {
      done = true;
      clearTimeout(retryTimer);
      deadline.signal.removeEventListener('abort', onAbort);
      offLost();
      if (channel) {
        if (o.stdout) channel.unpipe(o.stdout);
        if (o.stderr) channel.stderr.unpipe(o.stderr);
      }
      o.stdout?.removeListener('error', onSinkError);
      o.stderr?.removeListener('error', onSinkError);
      if (stdinStream) {
        stdinStream.removeListener('error', onStdinError);
        if (channel) stdinStream.unpipe(channel);
        // A stdin stream is consumed by the exec; if the command ended early, destroy it so a
        // fan-out source piping into it unpipes instead of stalling on backpressure.
        const readable = stdinStream as NodeJS.ReadableStream & {
          destroy?: () => void;
          readableEnded?: boolean;
        };
        if (readable.readableEnded !== true) readable.destroy?.();
      }
    };
    const fail = (e: unknown) => {
      if (done) return;
      cleanup();
      reject(e);
    };
    const stopChannel = () => {
      if (!channel) return;
      try {
        sendSignal(channel, 'KILL');
        channel.close();
      } catch {
        // the connection may already be gone
      }
    };
    const onAbort = () => {
      stopChannel();
      conn.retire();
      fail(deadline.error());
    };
    const onSinkError = (e: Error) => {
      stopChannel();
      conn.retire();
      fail(new SshError('aborted', node, `output stream failed: ${e.message}`, e));
    };
    const onStdinError = (e: Error) => {
      stopChannel();
      conn.retire();
      fail(new SshError('aborted', node, `stdin stream failed: ${e.message}`, e));
    };
    const offLost = conn.onLost((lost) => {
      if (!channel) fail(new NotStartedError(lost));
      else if (!gotExit) fail(lost);
    });
    deadline.signal.addEventListener('abort', onAbort, { once: true });
    o.stdout?.on('error', onSinkError);
    o.stderr?.on('error', onSinkError);
    stdinStream?.on('error', onStdinError);

    const onChannel = (e: Error | undefined, ch: ClientChannel) => {
      if (done) {
        // Opened after a timeout/abort: stop it at once.
        if (!e) {
          ch.on('error', () => {});
          ch.close();
        }
        return;
      }
      if (e) {
        if (conn.closed) fail(new NotStartedError(conn.lostError()));
        else if (isOpenFailure(e) && openAttempts < OPEN_RETRY_DELAYS_MS.length) {
          // OpenSSH frees a closed session only on its next main-loop pass, so a channel opened
          // right after another one closed can be refused although we stay under MaxSessions.
          const delay = OPEN_RETRY_DELAYS_MS[openAttempts++]!;
          retryTimer = setTimeout(open, delay);
        } else
          fail(new SshError('channel_refused', node, `${conn.where} refused the command: ${e.message}`, e));
        return;
      }
      channel = ch;
      ch.on('error', (chErr: Error) =>
        fail(new SshError('connection_lost', node, `channel error: ${chErr.message}`, chErr)),
      );
      ch.on('exit', (code: number | null, signal?: string) => {
        gotExit = true;
        exitCode = typeof code === 'number' ? code : null;
        if (exitCode === null && signal) exitSignal = signal;
      });
      if (o.stdout) ch.pipe(o.stdout, { end: false });
      else ch.on('data', (b: Buffer) => out.push(b));
      if (o.stderr) ch.stderr.pipe(o.stderr, { end: false });
      else ch.stderr.on('data', (b: Buffer) => err.push(b));
      let stderrEnded = false;
      let closed = false;
      const settle = () => {
        if (!closed || !stderrEnded || done) return;
        if (!gotExit && conn.closed) return fail(conn.lostError());
        cleanup();
        const r: ExecResult = {
          exitCode,
          stdout: o.stdout ? '' : out.toString(),
          stderr: o.stderr ? '' : err.toString(),
        };
        if (exitSignal !== undefined) r.exitSignal = exitSignal;
        resolve(r);
      };
      ch.stderr.once('end', () => {
        stderrEnded = true;
        settle();
      });
      ch.once('close', () => {
        closed = true;
        settle();
      });
      if (o.stdin === undefined) ch.end();
      else if (isBufferLike(o.stdin)) ch.end(o.stdin);
      else o.stdin.pipe(ch);
    };
    let openAttempts = 0;
    const open = () => {
      if (done) return;
      try {
        conn.client.exec(command, onChannel);
      } catch (e) {
        // ssh2 throws 'Not connected' synchronously when the socket already went away.
        fail(new NotStartedError(new SshError('connection_lost', node, (e as Error).message, e)));
      }
    };
    open();
  });
}

/** Delays before re-opening a channel the server refused to open (not a refused exec request). */
const OPEN_RETRY_DELAYS_MS = [5, 20, 50, 100, 200, 400];

/** ssh2 sets `reason` (RFC 4254 §5.1 code) on CHANNEL_OPEN_FAILURE; a refused exec request has none. */
function isOpenFailure(e: Error): boolean {
  return typeof (e as Error & { reason?: unknown }).reason === 'number';
}

function isBufferLike(x: unknown): x is string | Buffer {
  return typeof x === 'string' || Buffer.isBuffer(x);
}
