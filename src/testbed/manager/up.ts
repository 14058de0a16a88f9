import { spawn } from 'node:child_process';
import { closeSync, existsSync, openSync, readFileSync } from 'node:fs';
import { setTimeout as sleep } from 'node:timers/promises';
import { KaployError } from '../../common/errors.js';
import { type Logger, silentLogger } from '../../common/logger.js';
import type { NodeState } from '../node/index.js';
import { callControl, type Health, listStatuses } from './control-client.js';
import { isDaemonAlive } from './daemon-process.js';
import { stopDaemon } from './down.js';
import { stopEngine } from './engine-process.js';
import type { TestbedLayout } from './layout.js';
import { daemonJs } from './package-paths.js';
import { prepareTestbed } from './prepare-site.js';
import { startEngineAndSeedEnvironments } from './site-services.js';
import { type TestbedState, writeState } from './testbed-state.js';
import { type RawUpOptions, validateUpOptions } from './up-options.js';
import type { UpProgress } from './up-progress.js';

export interface UpResult {
  layout: TestbedLayout;
  state: TestbedState;
  pid: number;
  /** Node count per state once the site settled (normally all in production). */
  states: Partial<Record<NodeState, number>>;
  engineUrl?: string;
}

const SETTLED: ReadonlySet<NodeState> = new Set(['production', 'installed', 'deploy_env', 'boot_failed']);

function logTail(l: TestbedLayout): string {
  try {
    return readFileSync(l.log, 'utf8').trim().split('\n').slice(-5).join('\n');
  } catch {
    return '(no log)';
  }
}

/**
 * `kaploy testbed up`: validates the options (nothing is started on bad input), writes the site's
 * files, starts the daemon detached (it outlives this process) and waits until every node has
 * booted. On failure the daemon is stopped again and the end of its log is in the message.
 */
export async function testbedUp(
  raw: RawUpOptions,
  o: { signal?: AbortSignal; logger?: Logger; progress?: UpProgress } = {},
): Promise<UpResult> {
  const logger = o.logger ?? silentLogger;
  try {
    return await up(raw, o, logger);
  } finally {
    o.progress?.end();
  }
}

async function up(
  raw: RawUpOptions,
  o: { signal?: AbortSignal; progress?: UpProgress },
  logger: Logger,
): Promise<UpResult> {
  const progress = o.progress;
  const opts = validateUpOptions(raw);
  if (!existsSync(daemonJs)) {
    throw new KaployError(
      'KAPLOY_FILE',
      `the testbed daemon is not built (${daemonJs} is missing): run npm run build`,
      { file: daemonJs },
    );
  }
  const { layout: l, state } = await prepareTestbed(opts, o.signal);
  progress?.update('prepared', 0, state.nodes);

  const logFd = openSync(l.log, 'a', 0o600);
  const child = spawn(process.execPath, [daemonJs, l.dir], {
    detached: true,
    stdio: ['ignore', logFd, logFd],
    env: { ...process.env, KAPLOY_LOG_LEVEL: process.env.KAPLOY_TESTBED_LOG_LEVEL ?? 'info' },
  });
  closeSync(logFd);
  const pid = child.pid;
  if (pid === undefined)
    throw new KaployError('KAPLOY_INTERNAL', `cannot start the testbed daemon: ${logTail(l)}`);
  let exited: string | undefined;
  child.once('exit', (code, sig) => {
    exited = sig ?? `exit ${code}`;
  });
  child.unref();
  state.pid = pid;
  await writeState(l, state);
  logger.info({ pid, dir: l.dir }, 'testbed daemon started');

  try {
    await waitUntil(
      async () => {
        if (exited || !isDaemonAlive(pid, l.dir)) {
          throw new KaployError(
            'KAPLOY_INTERNAL',
            `the testbed daemon stopped (${exited ?? 'gone'}); end of ${l.log}:\n${logTail(l)}`,
          );
        }
        const h = (await callControl(state, 'GET', '/health', {
          timeoutMs: 2000,
          ...(o.signal ? { signal: o.signal } : {}),
        }).catch(() => undefined)) as Health | undefined;
        if (h?.error) throw new KaployError('KAPLOY_INTERNAL', `the virtual nodes did not start: ${h.error}`);
        if (h) progress?.update('started', h.ready ? state.nodes : (h.started ?? 0), state.nodes);
        return h?.ready === true;
      },
      30_000 + 100 * state.nodes,
      'the testbed daemon to start its nodes',
      o.signal,
    );
    let states: UpResult['states'] = {};
    await waitUntil(
      async () => {
        const all = await listStatuses(state, o.signal);
        states = {};
        for (const s of all) states[s.state] = (states[s.state] ?? 0) + 1;
        progress?.update('booted', all.filter((s) => SETTLED.has(s.state)).length, state.nodes);
        return all.every((s) => SETTLED.has(s.state));
      },
      30_000 + (state.bootDelayMs + (state.firmwareDelayMs ?? 0)) * 4 + 50 * state.nodes,
      'every node to boot',
      o.signal,
    );
    progress?.update('engine', state.nodes, state.nodes);
    const services = await startEngineAndSeedEnvironments(l, state, {
      logger,
      ...(o.signal ? { signal: o.signal } : {}),
    });
    return { layout: l, state, pid, states, ...services };
  } catch (e) {
    // Leave nothing behind: an engine started before the failure too.
    await stopEngine(l).catch(() => undefined);
    await stopDaemon(l, state).catch(() => undefined);
    throw e;
  }
}

async function waitUntil(
  check: () => Promise<boolean>,
  timeoutMs: number,
  what: string,
  signal?: AbortSignal,
): Promise<void> {
  const end = Date.now() + timeoutMs;
  for (;;) {
    if (await check()) return;
    if (Date.now() > end)
      throw new KaployError(
        'KAPLOY_INTERNAL',
        `timed out after ${Math.round(timeoutMs / 1000)} s waiting for ${what}`,
      );
    await sleep(100, undefined, signal ? { signal } : undefined);
  }
}
