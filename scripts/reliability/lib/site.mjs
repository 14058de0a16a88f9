// A virtual site as the reliability scenarios drive it: `kaploy testbed up` (the testbed library
// from dist/), the real commands run as the site's users, an API client per user, the engine's
// pid, peak memory and log, kill -9 and restart of the engine on the same store.
import { execFile } from 'node:child_process';
import { mkdtempSync, readFileSync, rmSync } from 'node:fs';
import os from 'node:os';
import path from 'node:path';
import { setTimeout as sleep } from 'node:timers/promises';
import { parse } from 'yaml';
import { ApiClient } from '../../../dist/client/http-client.js';
import {
  testbedDown,
  testbedFault,
  testbedLayout,
  testbedStatus,
  testbedUp,
} from '../../../dist/testbed/index.js';
import { startEngine } from '../../../dist/testbed/manager/engine-process.js';

const root = path.resolve(import.meta.dirname, '..', '..', '..');
const cli = (name) => path.join(root, 'dist', 'cli', `${name}.js`);

const me = os.userInfo().username;

/** Pid of the engine process recorded by the site, checked against /proc (never a reused pid). */
function livePid(dir) {
  try {
    const pid = Number(readFileSync(path.join(dir, 'engine.pid'), 'utf8').trim());
    const argv = readFileSync(`/proc/${pid}/cmdline`, 'utf8');
    return argv.includes('server') ? pid : undefined;
  } catch {
    return undefined;
  }
}

/** VmHWM (peak resident set) of a process in MiB, or 0 when it is gone. */
function peakMiB(pid) {
  try {
    const kb = /VmHWM:\s+(\d+)/.exec(readFileSync(`/proc/${pid}/status`, 'utf8'))?.[1];
    return Number(kb ?? 0) / 1024;
  } catch {
    return 0;
  }
}

/**
 * Engine log lines that are internal errors: pino lines at error level or above naming
 * KAPLOY_INTERNAL or an unexpected error, and what Node prints when a process dies of an unhandled
 * rejection, an uncaught exception or an exhausted heap.
 */
export function internalErrorLines(text) {
  const out = [];
  for (const line of text.split('\n')) {
    if (line === '') continue;
    let rec;
    try {
      rec = JSON.parse(line);
    } catch {
      if (/unhandled|uncaught|triggerUncaughtException|heap out of memory|FATAL ERROR/i.test(line))
        out.push(line);
      continue;
    }
    if (typeof rec.level === 'number' && rec.level >= 50 && /KAPLOY_INTERNAL|unexpected error/.test(line))
      out.push(line);
  }
  return out;
}

async function startSite({ nodes, site, bootDelayMs = 50, signal }) {
  const dir = mkdtempSync(path.join(os.tmpdir(), `kaploy-rel-${site}-`));
  try {
    await testbedUp({ nodes, site, dir, bootDelay: bootDelayMs }, { signal });
  } catch (e) {
    await testbedDown(dir).catch(() => undefined);
    rmSync(dir, { recursive: true, force: true });
    throw e;
  }
  const names = readFileSync(path.join(dir, 'nodes'), 'utf8').trim().split('\n');
  const cfg = parse(readFileSync(path.join(dir, 'client.yaml'), 'utf8'));
  const url = Object.values(cfg.servers)[0].url;
  const tokenFile = (user) => path.join(dir, 'tokens', user);
  const token = (user = me) => readFileSync(tokenFile(user), 'utf8').trim();
  let peak = 0;
  let logOffset = 0;
  const internal = [];
  const env = (user = me, extra = {}) => ({
    ...process.env,
    KAPLOY_CLIENT_CONFIG: path.join(dir, 'client.yaml'),
    KAPLOY_TOKEN_FILE: tokenFile(user),
    KAPLOY_NODEFILE: path.join(dir, 'nodes'),
    PATH: `${path.join(dir, 'bin')}:${process.env.PATH}`,
    ...extra,
  });
  const s = {
    dir,
    nodes: names,
    url,
    token,
    client: (user = me) => new ApiClient({ url, token: token(user) }),
    /** Runs one of the package's programs as `user`; resolves with its exit code and output. */
    run: (cmd, args, o = {}) =>
      new Promise((resolve) => {
        const child = execFile(
          process.execPath,
          [cli(cmd), ...args],
          { env: env(o.user, o.env), cwd: dir, maxBuffer: 64 << 20, signal },
          (err, stdout, stderr) => {
            const code = err ? (typeof err.code === 'number' ? err.code : 1) : 0;
            resolve({ code, stdout, stderr });
          },
        );
        child.stdin?.end(o.input ?? '');
      }),
    enginePid: () => livePid(dir),
    /** Samples the engine's peak memory (kept across restarts: the highest of every engine process). */
    sample() {
      const pid = livePid(dir);
      if (pid) peak = Math.max(peak, peakMiB(pid));
      return peak;
    },
    /** Reads the engine log written since the last call and keeps its internal-error lines. */
    scanLog() {
      let text = '';
      try {
        text = readFileSync(path.join(dir, 'engine.log'), 'utf8');
      } catch {
        return internal;
      }
      internal.push(...internalErrorLines(text.slice(logOffset)));
      logOffset = text.length;
      return internal;
    },
    internalErrors: () => s.scanLog().length,
    async kill9() {
      const pid = livePid(dir);
      if (!pid) throw new Error('no engine to kill: it is not running');
      s.sample();
      process.kill(pid, 'SIGKILL');
      while (livePid(dir) === pid) await sleep(20);
    },
    /** Starts the engine again on the same store, as `kaploy testbed up` starts it. */
    async restart() {
      await startEngine(testbedLayout(dir), url, tokenFile('kaadmin'), signal);
    },
    status: () => testbedStatus(dir, { signal }).then((r) => r.nodes),
    fault: (node, f) => testbedFault(dir, node, f, { signal }),
    disk: (node, part, file) => path.join(dir, 'vnodes', node, 'disk', `sda${part}`, file),
    async down() {
      s.sample();
      s.scanLog();
      try {
        await testbedDown(dir);
      } finally {
        rmSync(dir, { recursive: true, force: true });
      }
    },
  };
  s.sample();
  return s;
}

/** Runs `fn(site)` on a fresh site and always takes the site down. */
export async function withSite(o, fn) {
  const site = await startSite(o);
  try {
    return await fn(site);
  } finally {
    await site.down();
  }
}

/** Polls an operation until it is no longer preparing, queued or running (or `ms` elapsed). */
export async function waitFinal(client, kind, wid, { ms = 300_000, signal } = {}) {
  const path_ = `/${kind === 'deploy' ? 'deployment' : kind}/${wid}`;
  const end = Date.now() + ms;
  for (;;) {
    let st;
    try {
      st = await client.request('GET', path_, { timeoutMs: 10_000, signal });
    } catch (e) {
      if (signal?.aborted || Date.now() > end) throw e;
      await sleep(200, undefined, { signal });
      continue;
    }
    if (!['preparing', 'queued', 'running'].includes(st.status) || Date.now() > end) return st;
    await sleep(200, undefined, { signal });
  }
}
