import { execFileSync } from 'node:child_process';
import { mkdirSync, mkdtempSync, rmSync, symlinkSync, writeFileSync } from 'node:fs';
import os from 'node:os';
import path from 'node:path';
import { Readable } from 'node:stream';
import { afterAll, describe, expect, it } from 'vitest';
import { readBoundedFile } from '../../src/client/read-bounded-file.js';

const dir = mkdtempSync(path.join(os.tmpdir(), 'kaploy-bounded-'));
afterAll(() => rmSync(dir, { recursive: true, force: true }));
const opts = { limit: 1024, what: 'node file' };

describe('readBoundedFile: the one reader of files users name', () => {
  it('reads a regular file (and one through a symbolic link)', async () => {
    const f = path.join(dir, 'nodes');
    writeFileSync(f, 'node-1.site\n');
    symlinkSync(f, path.join(dir, 'link'));
    expect(await readBoundedFile(f, opts)).toBe('node-1.site\n');
    expect(await readBoundedFile(path.join(dir, 'link'), opts)).toBe('node-1.site\n');
  });

  it('refuses a FIFO without opening it (open() would block until a writer came)', async () => {
    const fifo = path.join(dir, 'fifo');
    execFileSync('mkfifo', [fifo]);
    await expect(readBoundedFile(fifo, opts)).rejects.toMatchObject({
      code: 'KAPLOY_FILE',
      message: `the node file ${fifo} is a FIFO (named pipe), not a regular file`,
    });
  });

  it('refuses devices and directories', async () => {
    await expect(readBoundedFile('/dev/zero', opts)).rejects.toThrow(
      'the node file /dev/zero is a character device, not a regular file',
    );
    mkdirSync(path.join(dir, 'd'));
    await expect(readBoundedFile(path.join(dir, 'd'), opts)).rejects.toThrow(/is a directory/);
    await expect(readBoundedFile(path.join(dir, 'missing'), opts)).rejects.toThrow(
      `cannot read the node file ${path.join(dir, 'missing')}: ENOENT`,
    );
  });

  it('refuses a file over the limit from its size, and one byte over', async () => {
    const big = path.join(dir, 'big');
    writeFileSync(big, Buffer.alloc(100 * 1024 * 1024));
    await expect(readBoundedFile(big, { limit: 256 * 1024, what: 'key file' })).rejects.toThrow(
      `the key file ${big} is larger than 262,144 bytes: refused`,
    );
    rmSync(big);
    const edge = path.join(dir, 'edge');
    writeFileSync(edge, 'x'.repeat(1025));
    await expect(readBoundedFile(edge, opts)).rejects.toThrow(/larger than 1,024 bytes/);
    writeFileSync(edge, 'x'.repeat(1024));
    expect(await readBoundedFile(edge, opts)).toHaveLength(1024);
  });

  it('reads /proc files (size 0) up to the bound', async () => {
    expect(await readBoundedFile('/proc/self/status', { limit: 1 << 20, what: 'file' })).toContain('Pid:');
  });

  it('- reads standard input, bounded: an endless stream stops at limit+1', async () => {
    let sent = 0;
    const endless = new Readable({
      read() {
        sent += 4096;
        this.push(Buffer.alloc(4096, 'a'));
      },
    });
    await expect(readBoundedFile('-', { ...opts, stdin: endless })).rejects.toThrow(
      'the node file <stdin> is larger than 1,024 bytes: refused',
    );
    expect(sent).toBeLessThan(1024 * 1024);
    expect(await readBoundedFile('-', { ...opts, stdin: Readable.from([Buffer.from('n-1\n')]) })).toBe(
      'n-1\n',
    );
  });

  it('honours the signal: a stdin that never ends is given up on abort', async () => {
    const silent = new Readable({ read() {} });
    const ac = new AbortController();
    const p = readBoundedFile('-', { ...opts, stdin: silent, signal: ac.signal });
    setImmediate(() => ac.abort(new Error('interrupted by the user')));
    await expect(p).rejects.toThrow('interrupted by the user');
    const f = path.join(dir, 'nodes');
    await expect(
      readBoundedFile(f, { ...opts, signal: AbortSignal.abort(new Error('gone')) }),
    ).rejects.toThrow('gone');
  });
});
