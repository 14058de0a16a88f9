import { mkdtempSync, readdirSync, rmSync, utimesSync, writeFileSync } from 'node:fs';
import os from 'node:os';
import path from 'node:path';
import { Readable } from 'node:stream';
import { afterEach, describe, expect, it } from 'vitest';
import { FileCache } from '../../src/engine/environments/file-cache.js';

const dirs: string[] = [];
afterEach(() => {
  for (const d of dirs.splice(0)) rmSync(d, { recursive: true, force: true });
});
function cache(): FileCache {
  const d = mkdtempSync(path.join(os.tmpdir(), 'kaploy-cache-'));
  dirs.push(d);
  return new FileCache(d);
}

describe('image cache', () => {
  it('refuses content over the size limit and keeps nothing', async () => {
    const c = cache();
    await expect(
      c.put(Readable.from([Buffer.alloc(10), Buffer.alloc(10)]), { maxBytes: 15, what: 'big.tgz' }),
    ).rejects.toMatchObject({
      code: 'KAPLOY_FILE',
      message: "'big.tgz' is larger than 15 bytes, the most the engine accepts",
    });
    expect(readdirSync(c.dir)).toEqual([]);
  });

  it('refuses an invalid checksum name (no path can be built from user input)', () => {
    expect(() => cache().path('../../etc/passwd')).toThrow(/invalid checksum/);
  });

  it('removes only old partial files', () => {
    const c = cache();
    writeFileSync(path.join(c.dir, '.tmp-old'), 'x');
    writeFileSync(path.join(c.dir, '.tmp-fresh'), 'x');
    const hourAgo = (Date.now() - 2 * 3_600_000) / 1000;
    utimesSync(path.join(c.dir, '.tmp-old'), hourAgo, hourAgo);
    expect(c.removeStaleTemporaries()).toBe(1);
    expect(readdirSync(c.dir)).toEqual(['.tmp-fresh']);
  });
});
