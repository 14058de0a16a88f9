import { execFileSync } from 'node:child_process';
import { mkdtempSync, readFileSync, rmSync, statSync } from 'node:fs';
import os from 'node:os';
import path from 'node:path';
import { afterAll, describe, expect, it } from 'vitest';
import { parse } from 'yaml';
import {
  ensureTestImages,
  installTestImages,
  writeEnvDescriptions,
} from '../../../src/testbed/images/index.js';

const cacheDir = mkdtempSync(path.join(os.tmpdir(), 'kaploy-img-'));
afterAll(() => rmSync(cacheDir, { recursive: true, force: true }));

const list = (args: string[]) => execFileSync('tar', args, { encoding: 'utf8' }).split('\n').filter(Boolean);

describe('test images', () => {
  it('builds a tiny bootable tree in every compression, a dd image and a postinstall', async () => {
    const imgs = await ensureTestImages({ cacheDir });
    const tiny = list(['-tzf', imgs.tinyTgz]);
    for (const f of [
      './boot/vmlinuz',
      './boot/initrd.img',
      './sbin/init',
      './etc/hostname',
      './etc/os-release',
      './etc/passwd',
      './etc/group',
      './root/',
      './bin/busybox',
      './bin/sh',
      './bin/tar',
    ]) {
      expect(tiny).toContain(f);
    }
    expect(list(['-tjf', imgs.tinyTbz2])).toEqual(tiny);
    expect(list(['-tJf', imgs.tinyTxz])).toEqual(tiny);
    expect(list(['--zstd', '-tf', imgs.tinyTzst])).toEqual(tiny);
    const kernel = execFileSync('tar', ['-xzOf', imgs.tinyTgz, './boot/vmlinuz'], { encoding: 'utf8' });
    expect(kernel).toBe('KAPLOY-TEST-KERNEL tiny-x64-base-1.0\n');
    const prodRelease = execFileSync('tar', ['-xzOf', imgs.prodTgz, './etc/os-release'], {
      encoding: 'utf8',
    });
    expect(prodRelease).toContain('ID=prod-env');
    expect(list(['-tzf', imgs.prodTgz])).toContain('./etc/kaploy-production');
    expect(list(['-tzf', imgs.postinstallTgz])).toContain('./traces.sh');
    // The dd image is a real ext2 file system holding the same tree.
    const raw = path.join(cacheDir, 'tiny.dd');
    execFileSync('sh', ['-c', 'gzip -cd "$1" > "$2"', 'sh', imgs.tinyDdGz, raw]);
    expect(statSync(raw).size).toBe(16 * 1024 * 1024);
    const ls = execFileSync('debugfs', ['-R', 'cat /etc/hostname', raw], {
      encoding: 'utf8',
      stdio: ['ignore', 'pipe', 'ignore'],
    });
    expect(ls).toBe('tiny\n');
  });

  it('is deterministic and cached', async () => {
    const a = await ensureTestImages({ cacheDir });
    const before = readFileSync(a.tinyTgz);
    const mtime = statSync(a.tinyTgz).mtimeMs;
    const b = await ensureTestImages({ cacheDir });
    expect(statSync(b.tinyTgz).mtimeMs).toBe(mtime);
    const other = mkdtempSync(path.join(os.tmpdir(), 'kaploy-img2-'));
    try {
      const c = await ensureTestImages({ cacheDir: other });
      expect(readFileSync(c.tinyTgz).equals(before)).toBe(true);
      expect(readFileSync(c.tinyTzst).equals(readFileSync(a.tinyTzst))).toBe(true);
    } finally {
      rmSync(other, { recursive: true, force: true });
    }
  });

  it('installs images into a site and writes environment descriptions in both formats', async () => {
    const site = path.join(cacheDir, 'site');
    const imgs = await installTestImages(path.join(site, 'images'), { cacheDir });
    expect(imgs.tinyTgz).toBe(path.join(site, 'images', 'tiny-x64-base-1.0.tgz'));
    const files = await writeEnvDescriptions(path.join(site, 'envs'), imgs);
    expect(files.map((f) => path.basename(f))).toContain('tiny-x64-base.env');
    const y = parse(readFileSync(path.join(site, 'envs', 'tiny-x64-base-post.yaml'), 'utf8'));
    expect(y).toMatchObject({
      name: 'tiny-x64-base-post',
      os: 'linux',
      image: { file: `server://${imgs.tinyTgz}`, kind: 'tar', compression: 'gzip' },
      postinstalls: [
        { archive: `server://${imgs.postinstallTgz}`, compression: 'gzip', script: './traces.sh' },
      ],
      boot: { kernel: '/boot/vmlinuz' },
    });
    const kv = readFileSync(path.join(site, 'envs', 'tiny-x64-base.env'), 'utf8');
    expect(kv).toContain(`tarball : ${imgs.tinyTgz}|tgz\n`);
    expect(readFileSync(path.join(site, 'envs', 'tiny-x64-base-dd.env'), 'utf8')).toContain('|ddgz\n');
  });
});
