import { readFileSync } from 'node:fs';
import { setTimeout as sleep } from 'node:timers/promises';

/**
 * True when `pid` is this DIR's daemon. The command line is checked so that a pid reused by an
 * unrelated process after a crash is never signalled.
 */
export function isDaemonAlive(pid: number | undefined, dir: string): boolean {
  if (!pid) return false;
  try {
    const argv = readFileSync(`/proc/${pid}/cmdline`, 'utf8').split('\0');
    return argv.some((a) => a.endsWith('daemon-main.js')) && argv.includes(dir);
  } catch {
    return false;
  }
}

/** Waits until the daemon is gone; false if it is still there after `timeoutMs`. */
export async function waitForExit(
  pid: number,
  dir: string,
  timeoutMs: number,
  signal?: AbortSignal,
): Promise<boolean> {
  const end = Date.now() + timeoutMs;
  while (isDaemonAlive(pid, dir)) {
    if (Date.now() > end) return false;
    await sleep(50, undefined, { signal });
  }
  return true;
}
