import { spawnSync } from 'node:child_process';
import { mkdtempSync, readdirSync, rmSync, utimesSync, writeFileSync } from 'node:fs';
import os from 'node:os';
import path from 'node:path';
import { Readable } from 'node:stream';
import { afterEach, describe, expect, it } from 'vitest';
import { silentLogger } from '../../src/common/logger.js';
import { DEFAULT_CACHE_LIMITS, FileCache } from '../../src/engine/environments/file-cache.js';
import { startEngine } from '../../src/engine/main.js';
import { makeSite } from './helpers/site.js';

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

describe('image cache bound and debris', () => {
  it('evicts the least recently used images beyond max_bytes, never a pinned one', async () => {
    const d = mkdtempSync(path.join(os.tmpdir(), 'kaploy-cache-'));
    dirs.push(d);
    const c = new FileCache(d, { ...DEFAULT_CACHE_LIMITS, maxBytes: 100 });
    const put = (fill: number) => c.put(Readable.from([Buffer.alloc(40, fill)]));
    const a = await put(1);
    const unpin = c.pin(a.md5);
    const b = await put(2);
    const third = await put(3); // 120 bytes: b goes (a is in use)
    expect([c.has(a.md5), c.has(b.md5), c.has(third.md5)]).toEqual([true, false, true]);
    unpin();
    c.touch(third.md5);
    await put(4); // a is now the least recently used
    expect(c.has(a.md5)).toBe(false);
    expect(c.usedBytes()).toBe(80);
    expect(() => c.reserve(101, 'x.tgz')).toThrow(/announces 101 bytes, more than the 100 bytes/);
  });

  it('partial files of a writer killed with -9 are removed at the next engine start', async () => {
    const d = mkdtempSync(path.join(os.tmpdir(), 'kaploy-cache-'));
    dirs.push(d);
    new FileCache(d);
    // A pid that existed and is gone: a child that already exited.
    const child = spawnSync(process.execPath, ['-e', 'process.stdout.write(String(process.pid))']);
    const dead = Number(child.stdout.toString());
    const files = path.join(d, 'cache', 'files');
    const debris = `.tmp-kaploy-${dead}-0123456789abcdef`;
    const live = `.tmp-kaploy-${process.pid}-0123456789abcdef`;
    writeFileSync(path.join(files, debris), 'half an image');
    writeFileSync(path.join(files, live), 'being written by a live process');
    writeFileSync(path.join(d, 'cache', 'urls', `.tmp-kaploy-${dead}-fedcba9876543210`), '{');
    const site = makeSite({ users: [] });
    try {
      const config = { ...site.config, dataDir: d };
      const engine = await startEngine(config, { port: 0, logger: silentLogger });
      await engine.close();
    } finally {
      site.cleanup();
    }
    expect(readdirSync(files)).toEqual([live]);
    expect(readdirSync(path.join(d, 'cache', 'urls'))).toEqual([]);
  });
});
