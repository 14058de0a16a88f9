import { createHash } from 'node:crypto';
import { PassThrough, Readable, Writable } from 'node:stream';
import { afterEach, beforeEach, describe, expect, it } from 'vitest';
import { shq } from '../../../src/common/shell-quote.js';
import { type Fixture, fixture } from './helpers/fixture.js';

describe('SshPool.exec', () => {
  let f: Fixture;
  beforeEach(async () => {
    f = await fixture();
  });
  afterEach(async () => {
    await f.close();
  });

  it('returns stdout, stderr and the exit code; non-zero exit is a value', async () => {
    const r = await f.pool.exec(f.target, 'echo out; echo err >&2; exit 3');
    expect(r).toEqual({ exitCode: 3, stdout: 'out\n', stderr: 'err\n' });
    const ok = await f.pool.exec(f.target, 'printf %s hello');
    expect(ok.exitCode).toBe(0);
    expect(ok.stdout).toBe('hello');
  });

  it('reports a command killed by a signal', async () => {
    const r = await f.pool.exec(f.target, 'kill -TERM $$');
    expect(r.exitCode).toBeNull();
    expect(r.exitSignal).toBe('SIGTERM');
  });

  it('passes a quoted user value through the remote shell verbatim', async () => {
    const evil = `it's $(touch /tmp/pwned) "quoted" ; rm -rf / \`x\``;
    const r = await f.pool.exec(f.target, `printf %s ${shq(evil)}`);
    expect(r.stdout).toBe(evil);
  });

  it('streams a few MiB of stdin with backpressure and sends EOF', async () => {
    const size = 8 * 1024 * 1024;
    const chunk = Buffer.alloc(64 * 1024, 7);
    let sent = 0;
    const hash = createHash('sha256');
    const src = new Readable({
      read() {
        if (sent >= size) return this.push(null);
        sent += chunk.length;
        hash.update(chunk);
        this.push(chunk);
      },
    });
    const r = await f.pool.exec(f.target, 'tee /dev/null | sha256sum | cut -d" " -f1; wc -c </dev/null', {
      stdin: src,
    });
    expect(r.exitCode).toBe(0);
    expect(r.stdout.split('\n')[0]).toBe(hash.digest('hex'));
    const count = await f.pool.exec(f.target, 'wc -c', {
      stdin: Readable.from([Buffer.alloc(3 * 1024 * 1024, 1)]),
    });
    expect(count.stdout.trim()).toBe(String(3 * 1024 * 1024));
  });

  it('takes stdin as a string or Buffer, and gives EOF at once without stdin', async () => {
    expect((await f.pool.exec(f.target, 'cat', { stdin: 'abc' })).stdout).toBe('abc');
    expect((await f.pool.exec(f.target, 'wc -c', { stdin: Buffer.alloc(1000) })).stdout.trim()).toBe('1000');
    expect((await f.pool.exec(f.target, 'cat')).stdout).toBe('');
  });

  it('streams stdout and stderr to writables instead of capturing, and leaves them open', async () => {
    const got: Buffer[] = [];
    let slowWrites = 0;
    // A slow sink: the channel must honour its backpressure and still deliver every byte.
    const sink = new Writable({
      highWaterMark: 1024,
      write(c: Buffer, _e, cb) {
        got.push(c);
        slowWrites++;
        setImmediate(cb);
      },
    });
    const errSink = new PassThrough();
    const errChunks: Buffer[] = [];
    errSink.on('data', (c: Buffer) => errChunks.push(c));
    const r = await f.pool.exec(f.target, 'head -c 2000000 /dev/zero; echo warn >&2', {
      stdout: sink,
      stderr: errSink,
    });
    expect(r).toEqual({ exitCode: 0, stdout: '', stderr: '' });
    expect(Buffer.concat(got).length).toBe(2_000_000);
    expect(slowWrites).toBeGreaterThan(1);
    expect(Buffer.concat(errChunks).toString()).toBe('warn\n');
    expect(sink.writableEnded).toBe(false);
  });

  it('keeps only the tail of a large captured output', async () => {
    const r = await f.pool.exec(f.target, 'head -c 1000000 /dev/zero | tr "\\0" a; printf END');
    expect(r.stdout.length).toBe(256 * 1024);
    expect(r.stdout.endsWith('aaaEND')).toBe(true);
  });

  it('destroys a stdin stream the command did not read to the end', async () => {
    const src = new PassThrough();
    src.write(Buffer.alloc(1024 * 1024));
    const r = await f.pool.exec(f.target, 'head -c 10 >/dev/null; echo done', { stdin: src });
    expect(r.stdout).toBe('done\n');
    expect(src.destroyed).toBe(true);
  });
});
