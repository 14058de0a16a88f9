import { Writable } from 'node:stream';

const KEEP = 16 * 1024;

/**
 * A stderr sink that keeps the tail of the text and calls each watcher once, the first time its
 * pattern matches (with the match), while the command still runs.
 */
export class StderrWatch extends Writable {
  private buf = '';
  private readonly pending: { pattern: RegExp; onMatch: (m: RegExpExecArray) => void }[];

  constructor(watchers: { pattern: RegExp; onMatch: (m: RegExpExecArray) => void }[]) {
    super();
    this.pending = [...watchers];
  }

  override _write(chunk: Buffer | string, _enc: BufferEncoding, cb: (e?: Error | null) => void): void {
    this.buf += chunk.toString();
    for (const w of [...this.pending]) {
      const m = w.pattern.exec(this.buf);
      if (m) {
        this.pending.splice(this.pending.indexOf(w), 1);
        w.onMatch(m);
      }
    }
    if (this.buf.length > KEEP) this.buf = this.buf.slice(this.buf.length - KEEP);
    cb();
  }

  text(): string {
    return this.buf;
  }
}
