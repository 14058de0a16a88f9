import { chmod, copyFile, mkdir } from 'node:fs/promises';
import path from 'node:path';
import { runTool } from './run-tool.js';

/**
 * The host programs the reference environments carry beside busybox, for the tutorial's lines
 * busybox cannot run: GNU tar (`--posix`, `--one-file-system`), GNU gzip, and dash as /bin/sh: Debian builds busybox's ash to prefer its
 * own applets, so under it `tar` would be busybox's whatever /bin/tar is. They come from the machine's own Debian packages, with the
 * shared libraries ldd names, so the image needs no download and matches the host's architecture.
 * OpenSSH's client is left out on purpose: with libcrypto and Kerberos it would multiply every
 * test image (2.7 MB gzipped without it, 5.7 MB with it, 1.0 MB busybox alone: measured), and
 * every deployment copies one.
 */
const HOST_PROGRAMS = ['/bin/dash', '/bin/tar', '/bin/gzip'] as const;

// ldd lines are `name => /abs/path (0x...)`, `/abs/path (0x...)`, or the vDSO with no path.
const LIB_LINE = /^\s*(?:\S+\s+=>\s+)?(\/[^\s()]+)\s+\(0x[0-9a-f]+\)\s*$/;

/** The absolute paths of the libraries `ldd` reports for `program` (the loader included). */
export function parseLdd(out: string): string[] {
  const libs: string[] = [];
  for (const line of out.split('\n')) {
    const m = LIB_LINE.exec(line);
    if (m?.[1]) libs.push(m[1]);
  }
  return libs;
}

async function copyInto(root: string, abs: string): Promise<void> {
  const dest = path.join(root, abs);
  await mkdir(path.dirname(dest), { recursive: true });
  // copyFile follows symlinks: the tree gets the library's bytes under the name the loader asks.
  await copyFile(abs, dest);
  await chmod(dest, 0o755);
}

/** Copies `programs` and every library they load into `root`, at the same absolute paths. */
export async function copyHostPrograms(
  root: string,
  programs: readonly string[] = HOST_PROGRAMS,
  signal?: AbortSignal,
): Promise<void> {
  const wanted = new Set<string>(programs);
  for (const p of programs) {
    const stdout = await runTool('ldd', [p], { signal });
    for (const lib of parseLdd(stdout)) wanted.add(lib);
  }
  for (const f of [...wanted].sort()) await copyInto(root, f);
}
