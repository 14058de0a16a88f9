import { Writable } from 'node:stream';

const KEEP = 16 * 1024;

/** A stderr sink that keeps the tail of the text and calls `onMatch` once when `pattern` appears. */
export class StderrWatch extends Writable {
  private buf = '';
  private matched = false;

  constructor(
    private readonly pattern: RegExp,
    private readonly onMatch: () => void,
  ) {
    super();
  }

  override _write(chunk: Buffer | string, _enc: BufferEncoding, cb: (e?: Error | null) => void): void {
    this.buf += chunk.toString();
    if (!this.matched && this.pattern.test(this.buf)) {
      this.matched = true;
      this.onMatch();
    }
    if (this.buf.length > KEEP) this.buf = this.buf.slice(this.buf.length - KEEP);
    cb();
  }

  text(): string {
    return this.buf;
  }
}
