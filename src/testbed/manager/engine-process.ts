import { spawn } from 'node:child_process';
import { closeSync, openSync, readFileSync, rmSync, writeFileSync } from 'node:fs';
import path from 'node:path';
import { setTimeout as sleep } from 'node:timers/promises';
import { ApiClient } from '../../client/http-client.js';
import { KaployError } from '../../common/errors.js';
import { readToken } from '../../common/token-file.js';
import type { TestbedLayout } from './layout.js';
import { kaployJs } from './package-paths.js';

/**
 * The virtual site's engine: `kaploy server --config DIR/site.yaml`, detached like the node daemon,
 * its pid in DIR/engine.pid and its log in DIR/engine.log.
 */
const pidFile = (l: TestbedLayout) => path.join(l.dir, 'engine.pid');
const engineLog = (l: TestbedLayout) => path.join(l.dir, 'engine.log');

/** True when `pid` is this site's engine (command line checked: a reused pid is never signalled). */
function isEngine(pid: number, l: TestbedLayout): boolean {
  try {
    const argv = readFileSync(`/proc/${pid}/cmdline`, 'utf8').split('\0');
    return argv.includes('server') && argv.includes(l.siteYaml);
  } catch {
    return false;
  }
}

function enginePid(l: TestbedLayout): number | undefined {
  try {
    const pid = Number(readFileSync(pidFile(l), 'utf8').trim());
    return Number.isInteger(pid) && pid > 0 && isEngine(pid, l) ? pid : undefined;
  } catch {
    return undefined;
  }
}

function tail(file: string): string {
  try {
    return readFileSync(file, 'utf8').trim().split('\n').slice(-5).join('\n');
  } catch {
    return '(no log)';
  }
}

export async function startEngine(
  l: TestbedLayout,
  url: string,
  adminTokenFile: string,
  signal?: AbortSignal,
  /** `up --tls`: the CA the engine's certificate is verified against. */
  ca?: Buffer,
): Promise<number> {
  await stopEngine(l);
  const fd = openSync(engineLog(l), 'a', 0o600);
  const child = spawn(process.execPath, [kaployJs, 'server', '--config', l.siteYaml], {
    detached: true,
    stdio: ['ignore', fd, fd],
    env: { ...process.env, KAPLOY_LOG_LEVEL: process.env.KAPLOY_ENGINE_LOG_LEVEL ?? 'info' },
  });
  closeSync(fd);
  let exited: string | undefined;
  child.once('exit', (code, sig) => {
    exited = sig ?? `exit ${code}`;
  });
  child.unref();
  const pid = child.pid;
  if (pid === undefined)
    throw new KaployError('KAPLOY_INTERNAL', `cannot start the engine: ${tail(engineLog(l))}`);
  writeFileSync(pidFile(l), `${pid}\n`);
  const client = new ApiClient({
    url,
    token: readToken(adminTokenFile),
    serverName: 'engine',
    ...(ca ? { ca } : {}),
  });
  try {
    const end = Date.now() + 30_000;
    for (;;) {
      if (exited)
        throw new KaployError(
          'KAPLOY_INTERNAL',
          `the engine exited (${exited}) at start:\n${tail(engineLog(l))}`,
        );
      try {
        await client.request('GET', '/version', { timeoutMs: 2000, ...(signal ? { signal } : {}) });
        return pid;
      } catch (e) {
        if (signal?.aborted) throw e;
      }
      if (Date.now() > end)
        throw new KaployError(
          'KAPLOY_INTERNAL',
          `the engine did not answer within 30 s:\n${tail(engineLog(l))}`,
        );
      await sleep(100, undefined, signal ? { signal } : {});
    }
  } finally {
    await client.close();
  }
}

/** Stops the engine (SIGTERM, then SIGKILL); false when none was running. */
export async function stopEngine(l: TestbedLayout): Promise<boolean> {
  const pid = enginePid(l);
  if (pid === undefined) return false;
  process.kill(pid, 'SIGTERM');
  for (let i = 0; i < 100 && isEngine(pid, l); i++) await sleep(50);
  if (isEngine(pid, l)) process.kill(pid, 'SIGKILL');
  for (let i = 0; i < 100 && isEngine(pid, l); i++) await sleep(50);
  rmSync(pidFile(l), { force: true });
  return true;
}
