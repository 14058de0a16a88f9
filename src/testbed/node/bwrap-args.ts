import { lstatSync, readlinkSync } from 'node:fs';

/** A host path bound at a path of the sandbox's view. */
export interface Bind {
  host: string;
  at: string;
}

/** What a sandboxed command sees as its file system. */
export interface SandboxSpec {
  /** The node's sandbox directory: the only host directory the outer namespace has writable. */
  nodeDir: string;
  hostname: string;
  /**
   * `tools`: a RAM system whose programs are the host's /usr (read-only), with `writable` dirs
   * (e.g. the deployment environment's /root, /tmp, /mnt, /etc) bound from the node's sandbox.
   * `partition`: a system booted from a partition, bound as `/`.
   */
  root: { kind: 'tools'; writable: Bind[] } | { kind: 'partition'; dir: string };
  /** Mounted partitions, in mount order. */
  mounts: Bind[];
  /** Raw partition images bound as block devices (/dev/sda3) for dd. */
  devices: Bind[];
  /** Host files exposed read-only (e.g. the production image at disk creation). */
  readOnly?: Bind[];
  cwd: string;
  argv: string[];
}

const TOOL_DIRS = ['/usr', '/bin', '/sbin', '/lib', '/lib64', '/lib32', '/libx32'];
const PATH = '/usr/local/sbin:/usr/local/bin:/usr/sbin:/usr/bin:/sbin:/bin';
let toolArgsCache: string[] | undefined;

/** The host's program directories, read-only (merged-/usr symlinks reproduced as symlinks). */
function toolArgs(): string[] {
  if (toolArgsCache) return toolArgsCache;
  const args: string[] = [];
  for (const dir of TOOL_DIRS) {
    const st = (() => {
      try {
        return lstatSync(dir);
      } catch {
        return undefined;
      }
    })();
    if (!st) continue;
    if (st.isSymbolicLink()) args.push('--symlink', readlinkSync(dir), dir);
    else if (st.isDirectory()) args.push('--ro-bind', dir, dir);
  }
  toolArgsCache = args;
  return args;
}

const bindArgs = (flag: string, binds: readonly Bind[]): string[] =>
  binds.flatMap((b) => [flag, b.host, b.at]);

/**
 * bubblewrap argv running `spec.argv` in the node's view. Two nested sandboxes, so that nothing
 * run on a node can touch a host path outside its directory (see
 * docs/decisions/0005-virtual-node-confinement.md):
 * - the outer one's mount namespace holds only the host's program directories (read-only) and
 *   the node's own directory: what the inner bubblewrap resolves cannot reach any other host path;
 * - the inner one builds the view and runs the command with every capability dropped, in its own
 *   PID/IPC/UTS namespaces and session, dying with its parent, with a cleared environment.
 */
export function sandboxArgs(spec: SandboxSpec): string[] {
  const inner = [
    '--unshare-pid',
    '--unshare-ipc',
    '--unshare-uts',
    '--hostname',
    spec.hostname,
    '--die-with-parent',
    '--new-session',
    '--cap-drop',
    'ALL',
    '--clearenv',
    '--setenv',
    'PATH',
    PATH,
    '--setenv',
    'HOME',
    '/root',
    '--setenv',
    'USER',
    'root',
    '--setenv',
    'LOGNAME',
    'root',
  ];
  if (spec.root.kind === 'tools') {
    inner.push(...toolArgs(), ...bindArgs('--bind', spec.root.writable));
    if (spec.root.writable.some((b) => b.at === '/etc'))
      inner.push('--ro-bind-try', '/etc/alternatives', '/etc/alternatives');
  } else {
    inner.push('--bind', spec.root.dir, '/');
  }
  inner.push('--proc', '/proc', '--dev', '/dev');
  inner.push(
    ...bindArgs('--bind', spec.mounts),
    ...bindArgs('--bind-try', spec.devices),
    ...bindArgs('--ro-bind', spec.readOnly ?? []),
  );
  // The RAM root's own tmpfs is made read-only: writes outside the bound directories fail
  // (EROFS) instead of silently vanishing.
  if (spec.root.kind === 'tools') inner.push('--remount-ro', '/');
  inner.push('--chdir', spec.cwd, '--', ...spec.argv);

  const outer = [
    '--unshare-pid',
    '--die-with-parent',
    ...toolArgs(),
    '--ro-bind-try',
    '/etc/alternatives',
    '/etc/alternatives',
    '--proc',
    '/proc',
    '--dev',
    '/dev',
    // The inner bwrap builds its new root under /tmp: give it one even when the node's directory
    // is not under the host's /tmp (before the node's bind, which may lie below it).
    '--tmpfs',
    '/tmp',
    '--bind',
    spec.nodeDir,
    spec.nodeDir,
    ...bindArgs(
      '--ro-bind',
      (spec.readOnly ?? []).map((b) => ({ host: b.host, at: b.host })),
    ),
    '--',
    'bwrap',
  ];
  return [...outer, ...inner];
}
