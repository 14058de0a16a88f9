import { chmod, copyFile, mkdir, symlink, writeFile } from 'node:fs/promises';
import path from 'node:path';
import { copyHostPrograms } from './host-binaries.js';
import { TUTORIAL_FILES } from './tutorial-tools.js';

/** What distinguishes one test image's root file system from another. */
export interface RootfsSpec {
  name: string; // e.g. tiny-x64-base
  version: string;
  prettyName: string;
  hostname: string;
  /** Extra files (path relative to / -> content). */
  extraFiles?: Record<string, string>;
}

/** The static busybox the images carry as their base userland (Debian's busybox-static). */
const BUSYBOX = '/bin/busybox';

// Applets linked in /bin so that what the engine, tests and users type runs in the booted system.
// sh, tar and gzip are dash and GNU's (host-binaries.ts): the tutorial's capture needs their long options.
const APPLETS = [
  'ash',
  'ls',
  'cat',
  'cp',
  'mv',
  'rm',
  'ln',
  'gunzip',
  'zcat',
  'bzip2',
  'xz',
  'unxz',
  'mkdir',
  'rmdir',
  'echo',
  'printf',
  'id',
  'env',
  'hostname',
  'uname',
  'true',
  'false',
  'test',
  'grep',
  'sed',
  'awk',
  'head',
  'tail',
  'wc',
  'sort',
  'touch',
  'chmod',
  'chown',
  'date',
  'sleep',
  'dd',
  'md5sum',
  'sha256sum',
  'stat',
  'find',
  'xargs',
  'tee',
  'df',
  'du',
  'ps',
  'kill',
  'mount',
  'umount',
  'sync',
  'dirname',
  'basename',
  'readlink',
  'nc',
  'vi',
  'more',
  'which',
  'whoami',
  'cut',
  'tr',
  'uniq',
  'expr',
  'su',
  'chgrp',
  'mktemp',
];

/** A recognisable stand-in for a kernel or initrd: tests check which one a node booted. */
export const fakeKernel = (s: RootfsSpec, what: 'vmlinuz' | 'initrd.img') =>
  `KAPLOY-TEST-${what === 'vmlinuz' ? 'KERNEL' : 'INITRD'} ${s.name}-${s.version}\n`;

function baseFiles(s: RootfsSpec): Record<string, string> {
  return {
    'boot/vmlinuz': fakeKernel(s, 'vmlinuz'),
    'boot/initrd.img': fakeKernel(s, 'initrd.img'),
    // What a real init would do, in the few lines busybox needs; the virtual node does not run it.
    'sbin/init': [
      '#!/bin/sh',
      '# kaploy test image init',
      'mount -t proc proc /proc 2>/dev/null',
      'mount -t sysfs sys /sys 2>/dev/null',
      'hostname -F /etc/hostname 2>/dev/null',
      'echo "$(cat /etc/hostname) booted"',
      'exec /bin/sh',
      '',
    ].join('\n'),
    'etc/hostname': `${s.hostname}\n`,
    'etc/os-release': [
      `NAME="kaploy test image"`,
      `ID=${s.name}`,
      `VERSION_ID="${s.version}"`,
      `PRETTY_NAME="${s.prettyName}"`,
      '',
    ].join('\n'),
    'etc/passwd': 'root:x:0:0:root:/root:/bin/sh\nnobody:x:65534:65534:nobody:/nonexistent:/bin/false\n',
    'etc/group': 'root:x:0:\nnogroup:x:65534:\n',
    'etc/shadow': 'root:*:19000:0:99999:7:::\nnobody:*:19000:0:99999:7:::\n',
    'etc/fstab': '# <fs> <mount point> <type> <options> <dump> <pass>\nproc /proc proc defaults 0 0\n',
    'etc/profile': 'export PATH=/bin:/sbin:/usr/bin:/usr/sbin\n',
    ...s.extraFiles,
  };
}

/** Writes the image's root file system into `root` (which must not exist yet). */
export async function writeRootfs(root: string, s: RootfsSpec, signal?: AbortSignal): Promise<void> {
  for (const d of [
    'bin',
    'sbin',
    'usr/bin',
    'usr/sbin',
    'etc',
    'root',
    'tmp',
    'dev',
    'proc',
    'sys',
    'mnt',
    'boot',
    'var/log',
    'home',
  ]) {
    await mkdir(path.join(root, d), { recursive: true });
  }
  await chmod(path.join(root, 'root'), 0o700);
  await chmod(path.join(root, 'tmp'), 0o1777);
  for (const [rel, content] of Object.entries(baseFiles(s))) {
    const f = path.join(root, rel);
    await mkdir(path.dirname(f), { recursive: true });
    await writeFile(f, content, { mode: rel === 'etc/shadow' ? 0o600 : 0o644 });
  }
  await chmod(path.join(root, 'sbin/init'), 0o755);
  await copyFile(BUSYBOX, path.join(root, 'bin/busybox'));
  await chmod(path.join(root, 'bin/busybox'), 0o755);
  for (const a of APPLETS) await symlink('busybox', path.join(root, 'bin', a));
  await copyHostPrograms(root, undefined, signal);
  await symlink('dash', path.join(root, 'bin/sh'));
  for (const [rel, f] of Object.entries(TUTORIAL_FILES)) {
    const dest = path.join(root, rel);
    await mkdir(path.dirname(dest), { recursive: true });
    await writeFile(dest, f.content, { mode: f.exec ? 0o755 : 0o644 });
  }
}
