import { randomBytes } from 'node:crypto';
import { access, chmod, mkdir, rename, rm, writeFile } from 'node:fs/promises';
import os from 'node:os';
import path from 'node:path';
import { type RootfsSpec, writeRootfs } from './rootfs-tree.js';
import { runTool } from './run-tool.js';

/**
 * The project's own test images, built with the system's tar, compressors and mke2fs into a cache
 * directory, once: a tiny but real bootable environment (kernel and initrd stand-ins, an init,
 * /etc, a static busybox userland with dash, GNU tar and gzip, the tutorial's admin scripts), the production image, the same tiny environment in every
 * compression kind and as a dd image, and a postinstall archive.
 */
export interface TestImages {
  dir: string;
  tinyTgz: string;
  tinyTbz2: string;
  tinyTxz: string;
  tinyTzst: string;
  tinyDdGz: string;
  prodTgz: string;
  postinstallTgz: string;
}

// Bump when what the images contain changes: the cache is keyed by it.
const RECIPE = 'v2';

const TINY: RootfsSpec = {
  name: 'tiny-x64-base',
  version: '1.0',
  prettyName: 'kaploy tiny x64 base 1.0',
  hostname: 'tiny',
};

const PROD: RootfsSpec = {
  name: 'prod-env',
  version: '1.0',
  prettyName: 'kaploy production environment 1.0',
  hostname: 'prod',
  extraFiles: {
    'etc/kaploy-production': 'this node runs the production environment\n',
    // The node boots its prod partition through this file (chain.c32 -> GRUB -> linux line).
    'boot/grub/grub.cfg':
      'set default=0\nset timeout=0\nmenuentry "prod-env" {\n  linux /boot/vmlinuz root=/dev/sda2 ro\n  initrd /boot/initrd.img\n}\n',
  },
};

/** The postinstall script: records the KADEPLOY_* variables it was given, in the deployed system. */
export const POSTINSTALL_SCRIPT = 'traces.sh';
const POSTINSTALL_BODY = [
  '#!/bin/sh',
  '# kaploy test postinstall: shows what Kadeploy-style postinstalls are given.',
  'set -e',
  // biome-ignore lint/suspicious/noTemplateCurlyInString: a shell parameter expansion, not a JS template
  'dest="${KADEPLOY_ENV_EXTRACTION_DIR:-/mnt/dest}"',
  'mkdir -p "$dest/root"',
  'env | grep \'^KADEPLOY_\' | sort > "$dest/root/kadeploy-postinstall.env"',
  '',
].join('\n');

function defaultCacheDir(env: NodeJS.ProcessEnv = process.env): string {
  return path.join(env.KAPLOY_CACHE_DIR ?? path.join(os.homedir(), '.cache', 'kaploy'), 'images');
}

function layout(dir: string): TestImages {
  const t = `${TINY.name}-${TINY.version}`;
  return {
    dir,
    tinyTgz: path.join(dir, `${t}.tgz`),
    tinyTbz2: path.join(dir, `${t}.tbz2`),
    tinyTxz: path.join(dir, `${t}.txz`),
    tinyTzst: path.join(dir, `${t}.tzst`),
    tinyDdGz: path.join(dir, `${t}.dd.gz`),
    prodTgz: path.join(dir, `${PROD.name}-${PROD.version}.tgz`),
    postinstallTgz: path.join(dir, 'postinstall-traces-1.0.tgz'),
  };
}

export const imageFiles = (imgs: TestImages): string[] => [
  imgs.tinyTgz,
  imgs.tinyTbz2,
  imgs.tinyTxz,
  imgs.tinyTzst,
  imgs.tinyDdGz,
  imgs.prodTgz,
  imgs.postinstallTgz,
];

const exists = (f: string) =>
  access(f).then(
    () => true,
    () => false,
  );

// Same bytes for the same tree: sorted names, fixed times and owners (GNU tar options).
const TAR_FLAGS = ['--sort=name', '--mtime=@0', '--owner=0', '--group=0', '--numeric-owner', '--format=gnu'];

async function tarTree(root: string, out: string, signal?: AbortSignal): Promise<void> {
  await runTool('tar', [...TAR_FLAGS, '-C', root, '-cf', out, '.'], { signal });
}

const COMPRESSORS = {
  gzip: ['gzip', ['-n', '-9', '-c']],
  bzip2: ['bzip2', ['-9', '-c']],
  xz: ['xz', ['-T1', '-6', '-c']],
  zstd: ['zstd', ['-q', '-19', '-c']],
} as const;

async function compress(
  kind: keyof typeof COMPRESSORS,
  input: string,
  out: string,
  signal?: AbortSignal,
): Promise<void> {
  const [cmd, args] = COMPRESSORS[kind];
  await runTool(cmd, [...args, input], { signal, stdoutFile: out });
}

/** Builds every image into `tmp`, named as in `layout(tmp)`. */
async function buildAll(tmp: string, signal?: AbortSignal): Promise<void> {
  const out = layout(tmp);
  const tinyRoot = path.join(tmp, 'tiny-root');
  const prodRoot = path.join(tmp, 'prod-root');
  const postRoot = path.join(tmp, 'post-root');
  await writeRootfs(tinyRoot, TINY, signal);
  await writeRootfs(prodRoot, PROD, signal);
  await mkdir(postRoot);
  await writeFile(path.join(postRoot, POSTINSTALL_SCRIPT), POSTINSTALL_BODY);
  await chmod(path.join(postRoot, POSTINSTALL_SCRIPT), 0o755);

  const tinyTar = path.join(tmp, 'tiny.tar');
  const prodTar = path.join(tmp, 'prod.tar');
  const postTar = path.join(tmp, 'post.tar');
  await Promise.all([
    tarTree(tinyRoot, tinyTar, signal),
    tarTree(prodRoot, prodTar, signal),
    tarTree(postRoot, postTar, signal),
  ]);

  // A raw ext2 file system holding the tiny tree, as `dd if=/dev/sda3 | gzip` would capture it.
  const ddImg = path.join(tmp, 'tiny.dd');
  await runTool(
    'mke2fs',
    [
      '-q',
      '-t',
      'ext2',
      '-L',
      'tiny',
      '-U',
      '6b61706c-6f79-4000-8000-000000000001',
      '-E',
      'hash_seed=6b61706c-6f79-4000-8000-000000000002',
      '-d',
      tinyRoot,
      '-F',
      ddImg,
      '16M',
    ],
    {
      signal,
      env: { ...process.env, E2FSPROGS_FAKE_TIME: '1' },
    },
  );

  await Promise.all([
    compress('gzip', tinyTar, out.tinyTgz, signal),
    compress('bzip2', tinyTar, out.tinyTbz2, signal),
    compress('xz', tinyTar, out.tinyTxz, signal),
    compress('zstd', tinyTar, out.tinyTzst, signal),
    compress('gzip', ddImg, out.tinyDdGz, signal),
    compress('gzip', prodTar, out.prodTgz, signal),
    compress('gzip', postTar, out.postinstallTgz, signal),
  ]);
}

/**
 * Returns the test images, building them first if any is missing. Concurrent callers are safe:
 * each builds in its own directory and renames finished files into place.
 */
export async function ensureTestImages(
  o: { cacheDir?: string; signal?: AbortSignal } = {},
): Promise<TestImages> {
  const dir = path.join(o.cacheDir ?? defaultCacheDir(), RECIPE);
  const want = layout(dir);
  const present = await Promise.all(imageFiles(want).map(exists));
  if (present.every(Boolean)) return want;
  await mkdir(dir, { recursive: true });
  const tmp = path.join(dir, `.build-${process.pid}-${randomBytes(4).toString('hex')}`);
  await mkdir(tmp);
  try {
    await buildAll(tmp, o.signal);
    const built = layout(tmp);
    const from = imageFiles(built);
    const to = imageFiles(want);
    for (let i = 0; i < from.length; i++) await rename(from[i] as string, to[i] as string);
  } finally {
    await rm(tmp, { recursive: true, force: true });
  }
  return want;
}
