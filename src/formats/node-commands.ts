import path from 'node:path';
import { shq } from '../common/shell-quote.js';

/**
 * The command lines the engine sends to a node over SSH. They are ordinary POSIX command lines
 * (a real deployment environment runs them with sh); the virtual site (src/testbed) recognises the
 * hardware ones by their exact shape (see `parseHardwareCommand` in src/testbed) and runs every
 * other one for real inside the node's sandbox. This file is the contract between the two:
 * change a shape here and the virtual node's interpreter together.
 *
 * Every value that may come from a user goes through `shq`.
 */
export type Compression = 'gzip' | 'bzip2' | 'xz' | 'zstd';
export type ImageKind = 'tar' | 'dd';

export const dev = (blockDevice: string, part: number): string => `${blockDevice}${part}`;

/** Decompressor as a pipeline stage reading stdin and writing stdout. */
function decompressor(c: Compression): string {
  switch (c) {
    case 'gzip':
      return 'gzip -cd';
    case 'bzip2':
      return 'bzip2 -cd';
    case 'xz':
      return 'xz -cd';
    case 'zstd':
      return 'zstd -qcd';
  }
}

export const nodeCommands = {
  // --- hardware (acted on the node's hardware model by the virtual site) ---
  /** Partition table from a sfdisk script on stdin (see `partitionScript`). */
  createPartitionTable: (blockDevice: string) => `sfdisk --quiet ${shq(blockDevice)}`,
  format: (device: string, fstype: string) => `mkfs -t ${shq(fstype)} -q ${shq(device)}`,
  formatSwap: (device: string) => `mkswap ${shq(device)}`,
  mount: (device: string, dir: string) => `mount ${shq(device)} ${shq(dir)}`,
  umount: (dir: string) => `umount ${shq(dir)}`,
  /** Installs the boot loader in the MBR, pointing at the grub.cfg under `bootDir` (already written). */
  installBootloader: (bootDir: string, blockDevice: string) =>
    `grub-install --boot-directory=${shq(bootDir)} ${shq(blockDevice)}`,
  kexecLoad: (kernel: string, initrd: string | undefined, append: string) =>
    `kexec -l ${shq(kernel)}${initrd ? ` --initrd=${shq(initrd)}` : ''} --append=${shq(append)}`,
  kexecExec: () => 'kexec -e',
  reboot: () => 'reboot',
  sync: () => 'sync',

  // --- ordinary commands (run for real in the node's sandbox) ---
  /** Appends the keys given on stdin to root's authorized_keys under `root` ('' for /). */
  appendAuthorizedKeys: (root: string) =>
    `mkdir -p ${shq(`${root}/root/.ssh`)} && chmod 700 ${shq(`${root}/root/.ssh`)} && cat >> ${shq(`${root}/root/.ssh/authorized_keys`)} && chmod 600 ${shq(`${root}/root/.ssh/authorized_keys`)}`,
  /** Replaces root's authorized_keys under `root` with the keys on stdin (kadeploy3 -k). */
  replaceAuthorizedKeys: (root: string) =>
    `mkdir -p ${shq(`${root}/root/.ssh`)} && chmod 700 ${shq(`${root}/root/.ssh`)} && cat > ${shq(`${root}/root/.ssh/authorized_keys`)} && chmod 600 ${shq(`${root}/root/.ssh/authorized_keys`)}`,
  /** Extracts a tar image arriving on stdin, decompressing in-stream. */
  extractTar: (c: Compression, dir: string) =>
    `${decompressor(c)} | tar -C ${shq(dir)} --numeric-owner -xf -`,
  /** Writes a dd image arriving on stdin to a partition, decompressing in-stream. */
  // A redirect, not `| dd`: sh has no pipefail, and a corrupt image must fail with the
  // decompressor's status instead of being reported written (Kadeploy: `gzip -cd > PART`).
  writeDd: (c: Compression, device: string) => `${decompressor(c)} > ${shq(device)}`,
  /**
   * Writes a file from stdin (e.g. grub.cfg), creating its directory. The directory is computed
   * here rather than by `$(dirname ...)`, so the line is an AND list of simple commands the virtual
   * node answers without a sandbox (src/testbed/node/file-commands.ts).
   */
  writeFile: (file: string) => `mkdir -p ${shq(path.posix.dirname(file))} && cat > ${shq(file)}`,
  /** Checks that a kernel (and initrd) exist in the deployed system. */
  checkFiles: (files: string[]) => files.map((f) => `test -f ${shq(f)}`).join(' && '),
  /**
   * Runs a pre/postinstall: the archive on stdin is extracted into a fresh directory, then the
   * script runs there with the KADEPLOY_* variables (values quoted).
   */
  runPostinstall: (c: Compression, workDir: string, script: string, vars: Record<string, string>) => {
    const env = Object.entries(vars)
      .map(([k, v]) => `${k}=${shq(v)}`)
      .join(' ');
    const run = script === 'none' ? 'true' : `cd ${shq(workDir)} && env ${env} sh -c ${shq(script)}`;
    return `rm -rf ${shq(workDir)} && mkdir -p ${shq(workDir)} && ${decompressor(c)} | tar -C ${shq(workDir)} -xf - && ${run}`;
  },

  /**
   * Chain broadcast stage (Kastafior/Kascade-like): the deployment environment's relay listens on
   * `port`, forwards every byte to `next` (if any) while piping it into `sink` (an extractTar or
   * writeDd command line). Recognised by the virtual site as a built-in of its deployment environment.
   * Several `next` (one `--next H:P` each, in order) make a tree stage forwarding to every child.
   * Relay contract (docs/steps.md): one upstream connection; connect to each next when it arrives,
   * retrying a refused connect for a while (the engine starts all relays at once); a next that
   * fails is dropped without failing the relay; exit status = the sink's (non-zero if the upstream
   * connection broke before EOF).
   */
  /**
   * A relay sink that also reports its own exit status on stderr (`kaploy-sink-status N`), so the
   * engine can tell "this node wrote the image" from "this node failed to forward it" whatever the
   * relay's exit status says.
   */
  reportingSink: (sink: string) => `${sink}; s=$?; echo "kaploy-sink-status $s" >&2; exit $s`,
  chainRelay: (port: number, next: string | readonly string[] | undefined, sink: string) =>
    `kaploy-relay --port ${port}${(typeof next === 'string' ? [next] : (next ?? [])).map((n) => ` --next ${shq(n)}`).join('')} -- sh -c ${shq(sink)}`,
} as const;

/** sfdisk script for the standard layout: swap, prod, deploy, extended, tmp. Sizes in MiB. */
export function partitionScript(parts: { swap: number; prod: number; deploy: number; tmp: number }): string {
  return [
    'label: dos',
    `${parts.swap} : size=4096MiB, type=82`,
    `${parts.prod} : size=30720MiB, type=83`,
    `${parts.deploy} : size=30720MiB, type=83`,
    '4 : type=5',
    `${parts.tmp} : type=83`,
    '',
  ].join('\n');
}

/** A GRUB 2 configuration that boots `kernel` from `rootDevice`. */
export function grubConfig(
  env: string,
  kernel: string,
  initrd: string | undefined,
  rootDevice: string,
  params: string,
): string {
  return [
    'set default=0',
    'set timeout=0',
    `menuentry '${env.replace(/'/g, '')}' {`,
    `  linux ${kernel} root=${rootDevice}${params ? ` ${params}` : ''}`,
    ...(initrd ? [`  initrd ${initrd}`] : []),
    '}',
    '',
  ].join('\n');
}
