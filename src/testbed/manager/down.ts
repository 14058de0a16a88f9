import { KaployError } from '../../common/errors.js';
import { callControl } from './control-client.js';
import { isDaemonAlive, waitForExit } from './daemon-process.js';
import { stopEngine } from './engine-process.js';
import { type TestbedLayout, testbedLayout } from './layout.js';
import { readState, type TestbedState, writeState } from './testbed-state.js';

/** Asks the daemon to stop its nodes, then escalates to SIGTERM and SIGKILL (its pid only). */
export async function stopDaemon(l: TestbedLayout, s: TestbedState, signal?: AbortSignal): Promise<boolean> {
  const pid = s.pid;
  if (!pid || !isDaemonAlive(pid, l.dir)) return false;
  await callControl(s, 'POST', '/shutdown', { timeoutMs: 3000, ...(signal ? { signal } : {}) }).catch(
    () => undefined,
  );
  if (await waitForExit(pid, l.dir, 15_000, signal)) return true;
  process.kill(pid, 'SIGTERM');
  if (await waitForExit(pid, l.dir, 5_000, signal)) return true;
  process.kill(pid, 'SIGKILL');
  if (await waitForExit(pid, l.dir, 5_000, signal)) return true;
  throw new KaployError('KAPLOY_INTERNAL', `the testbed daemon (pid ${pid}) does not stop`);
}

export interface DownResult {
  dir: string;
  site: string;
  /** False when no daemon was running (nothing to do). */
  stopped: boolean;
}

/** `kaploy testbed down`: stops the site's daemon; its files stay (up reuses the keys). */
export async function testbedDown(dir: string, o: { signal?: AbortSignal } = {}): Promise<DownResult> {
  const l = testbedLayout(dir);
  const s = readState(l);
  // The engine first: it must not see its nodes vanish in the middle of an operation's step.
  const engineStopped = await stopEngine(l);
  const stopped = (await stopDaemon(l, s, o.signal)) || engineStopped;
  const { pid: _pid, ...rest } = s;
  await writeState(l, rest);
  return { dir: l.dir, site: s.site, stopped };
}
