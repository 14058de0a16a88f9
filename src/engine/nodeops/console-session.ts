import type { ChildProcessWithoutNullStreams } from 'node:child_process';
import { PassThrough } from 'node:stream';

/** Bytes kept for a reader that has not attached yet (boot messages printed at once). */
const MAX_PENDING = 256 * 1024;
/** How long a console command gets to leave after its input closed, before SIGTERM then SIGKILL. */
const GRACE_MS = 1_000;

/**
 * One console session: the console command's child process, its output relayed to one reader (the
 * kaconsole3 client's streaming request), its input fed from the client's input requests. Closing
 * (escape sequence, rights revoked, reader gone, engine stopping) ends the output with a reason
 * line and stops the child.
 */
export class ConsoleSession {
  readonly startedAt = Date.now();
  closedReason: string | undefined;
  #reader: PassThrough | undefined;
  #pending: Buffer[] = [];
  #pendingBytes = 0;
  #stderr = '';
  readonly #closed: Promise<void>;
  #onClosed: () => void = () => {};

  constructor(
    readonly wid: string,
    readonly user: string,
    readonly node: string,
    private readonly child: ChildProcessWithoutNullStreams,
  ) {
    this.#closed = new Promise((resolve) => {
      this.#onClosed = resolve;
    });
    child.stdout.on('data', (d: Buffer) => this.#emit(d));
    child.stderr.on('data', (d: Buffer) => {
      this.#stderr = (this.#stderr + d.toString('utf8')).slice(-2000);
    });
    child.stdin.on('error', () => {});
    child.on('error', (e) => this.close(`console command failed: ${e.message}`));
    child.on('close', (code, signal) => {
      const why = this.#stderr.trim().split('\n').at(-1) ?? '';
      this.close(
        this.closedReason ??
          (code === 0
            ? 'console command ended'
            : `console command ended (${signal ?? `code ${code}`})${why ? `: ${why}` : ''}`),
      );
      this.#finish();
    });
  }

  get closed(): Promise<void> {
    return this.#closed;
  }

  get attached(): boolean {
    return this.#reader !== undefined;
  }

  #emit(d: Buffer): void {
    if (this.#reader) {
      this.#reader.write(d);
      return;
    }
    this.#pending.push(d);
    this.#pendingBytes += d.length;
    while (this.#pendingBytes > MAX_PENDING && this.#pending.length > 1) {
      this.#pendingBytes -= (this.#pending.shift() as Buffer).length;
    }
  }

  /** The output stream for the one reader; what was printed before it attached comes first. */
  attach(): PassThrough {
    const out = new PassThrough();
    this.#reader = out;
    for (const b of this.#pending) out.write(b);
    this.#pending = [];
    this.#pendingBytes = 0;
    if (this.closedReason !== undefined) this.#finish();
    return out;
  }

  input(data: Buffer): void {
    if (this.closedReason === undefined && this.child.stdin.writable) this.child.stdin.write(data);
  }

  /** Idempotent. The child gets EOF on its input first (a console client leaves cleanly on it). */
  close(reason: string): void {
    if (this.closedReason !== undefined) return;
    this.closedReason = reason;
    this.child.stdin.end();
    if (this.child.exitCode === null && this.child.signalCode === null) {
      const term = setTimeout(() => this.child.kill('SIGTERM'), GRACE_MS);
      const kill = setTimeout(() => this.child.kill('SIGKILL'), GRACE_MS * 3);
      term.unref();
      kill.unref();
      this.child.once('close', () => {
        clearTimeout(term);
        clearTimeout(kill);
      });
    } else this.#finish();
  }

  #finish(): void {
    const r = this.#reader;
    if (r && !r.writableEnded) {
      r.end(`\r\n[kaploy console: closed: ${this.closedReason ?? 'ended'}]\r\n`);
    }
    if (this.child.exitCode !== null || this.child.signalCode !== null) this.#onClosed();
  }
}
