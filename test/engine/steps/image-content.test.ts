import { execFileSync } from 'node:child_process';
import { mkdirSync, mkdtempSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import path from 'node:path';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { checkImageContent } from '../../../src/engine/steps/image-content.js';

/** Real images made with gzip, tar and mke2fs, checked as send_environment checks them. */
let dir: string;
let n = 0;
const signal = new AbortController().signal;
const gz = (name: string, data: Buffer) => {
  const file = path.join(dir, `${name}.gz`);
  writeFileSync(file, execFileSync('gzip', ['-c'], { input: data }));
  return file;
};
const check = (file: string, kind: 'dd' | 'tar') =>
  checkImageContent({ path: file, kind, compression: 'gzip', md5: `md5-${n++}` }, signal);

beforeAll(() => {
  dir = mkdtempSync(path.join(tmpdir(), 'kaploy-image-content-'));
});
afterAll(() => {
  rmSync(dir, { recursive: true, force: true });
});

describe('checkImageContent', () => {
  it('accepts an ext4 file system image and a tar archive', async () => {
    const root = path.join(dir, 'root');
    mkdirSync(path.join(root, 'boot'), { recursive: true });
    writeFileSync(path.join(root, 'boot', 'vmlinuz'), 'kernel');
    const img = path.join(dir, 'fs.img');
    execFileSync('mke2fs', ['-q', '-F', '-t', 'ext4', '-d', root, img, '4M']);
    const fsGz = path.join(dir, 'fs.img.gz');
    execFileSync('sh', ['-c', 'gzip -c "$1" > "$2"', 'sh', img, fsGz]);
    expect(await check(fsGz, 'dd')).toBeUndefined();
    const tgz = path.join(dir, 'root.tgz');
    execFileSync('tar', ['-C', root, '-czf', tgz, '.']);
    expect(await check(tgz, 'tar')).toBeUndefined();
    // Each claimed as the other kind is refused, saying what it is.
    expect(await check(tgz, 'dd')).toBe('the image is a tar archive, not the dd image its description says');
    expect(await check(fsGz, 'tar')).toBe(
      'the image is ext2/3/4 data written raw, not the tar archive its description says',
    );
  });

  it('refuses an empty image (dd of nothing, gzipped)', async () => {
    const file = gz('empty', Buffer.alloc(0));
    expect(await check(file, 'dd')).toBe('the image is empty (it decompresses to 0 bytes)');
    expect(await check(file, 'tar')).toBe('the image is empty (it decompresses to 0 bytes)');
  });

  it('refuses data that is no file system', async () => {
    expect(await check(gz('zeros', Buffer.alloc(300_000)), 'dd')).toMatch(
      /^the dd image holds no file system the deployment can boot \(no ext2\/3\/4, XFS or Btrfs superblock/,
    );
    expect(await check(gz('text', Buffer.from('hello\n')), 'tar')).toBe('the image is not a tar archive');
  });

  it('refuses a truncated or corrupt compressed stream', async () => {
    const whole = execFileSync('gzip', ['-c'], { input: Buffer.alloc(2000, 7) });
    const cut = path.join(dir, 'cut.gz');
    writeFileSync(cut, whole.subarray(0, whole.length - 8));
    expect(await check(cut, 'dd')).toMatch(/^the image is truncated or corrupt \(gzip: .*\)$/);
    const junk = path.join(dir, 'junk.gz');
    writeFileSync(junk, 'not gzip at all');
    expect(await check(junk, 'dd')).toMatch(
      /^the image is truncated or corrupt \(gzip: .*not in gzip format/,
    );
  });

  it('stops reading a large image after its head', async () => {
    // 64 MiB of zeros: checked from its first 128 KiB, the decompressor killed there.
    const big = execFileSync('sh', ['-c', 'head -c 67108864 /dev/zero | gzip -1 -c'], {
      maxBuffer: 1 << 30,
    });
    const file = path.join(dir, 'big.gz');
    writeFileSync(file, big);
    expect(await check(file, 'dd')).toMatch(/in its first 131072 bytes\)$/);
  });
});
