import { execFile, spawn } from 'node:child_process';
import {
  copyFileSync,
  createReadStream,
  mkdirSync,
  mkdtempSync,
  readFileSync,
  rmSync,
  writeFileSync,
} from 'node:fs';
import { createServer, type Server } from 'node:http';
import type { AddressInfo } from 'node:net';
import os from 'node:os';
import path from 'node:path';
import { Writable } from 'node:stream';
import { afterAll, afterEach, beforeAll, describe, expect, it, vi } from 'vitest';
import { parse } from 'yaml';
import type { OperationStatus } from '../../../src/api/operation-status.js';
import { runDeployment } from '../../../src/client/deploy/run.js';
import { gridSites } from '../../../src/client/grid/grid-sites.js';
import { ApiClient } from '../../../src/client/http-client.js';
import { readToken } from '../../../src/common/token-file.js';
import { cli, type RunResult, type Site, startSite } from '../../e2e/helpers/virtual-site.js';

afterEach(() => {
  vi.unstubAllEnvs();
});

/**
 * kadeploy3 -M end to end: two real virtual sites (nodes + engine each), a client configuration
 * naming both engines with each site's own token, the real kadeploy3 binary.
 */
let sa: Site;
let sb: Site;
let work: string;
let depot: Server;
let depotUrl: string;
const depotHits: string[] = [];
const user = os.userInfo().username;

const engineUrl = (s: Site) => {
  const c = parse(readFileSync(path.join(s.dir, 'client.yaml'), 'utf8')) as {
    servers: Record<string, { url: string }>;
  };
  return Object.values(c.servers)[0]?.url as string;
};
const userKey = () => path.join(sa.dir, 'keys', 'user.pub');

/** The real kadeploy3, with the grid client configuration and no $KAPLOY_TOKEN_FILE (per-server tokens). */
function kadeploy3(args: string[]): Promise<RunResult> {
  const env: NodeJS.ProcessEnv = { ...process.env, KAPLOY_CLIENT_CONFIG: path.join(work, 'client.yaml') };
  delete env.KAPLOY_TOKEN_FILE;
  delete env.KAPLOY_TOKEN_DIR;
  return new Promise((resolve) => {
    execFile(
      process.execPath,
      [cli('kadeploy3'), ...args],
      { env, cwd: work, maxBuffer: 64 << 20 },
      (err, stdout, stderr) => {
        const code = err
          ? typeof (err as { code?: unknown }).code === 'number'
            ? (err as { code: number }).code
            : 1
          : 0;
        resolve({ code, stdout, stderr });
      },
    );
  });
}

/** Statistics rows of one site (GET /stats, what kastat3 reads): one more per node per operation. */
async function statRows(s: Site): Promise<number> {
  const client = new ApiClient({ url: engineUrl(s), token: readToken(path.join(s.dir, 'tokens', user)) });
  try {
    const body = await client.stream('GET', '/stats');
    let text = '';
    for await (const chunk of body) text += String(chunk);
    return lines(text).length;
  } finally {
    await client.close();
  }
}

/** A shell on the grid frontend: the grid client configuration, the commands on PATH. */
function gridSh(script: string, env: NodeJS.ProcessEnv): Promise<RunResult> {
  const e: NodeJS.ProcessEnv = {
    ...process.env,
    KAPLOY_CLIENT_CONFIG: path.join(work, 'client.yaml'),
    PATH: `${path.join(sa.dir, 'bin')}:${process.env.PATH}`,
    ...env,
  };
  delete e.KAPLOY_TOKEN_FILE;
  delete e.KAPLOY_TOKEN_DIR;
  return new Promise((resolve) => {
    execFile('/bin/bash', ['-ec', script], { env: e, cwd: work }, (err, stdout, stderr) => {
      const code = err
        ? typeof (err as { code?: unknown }).code === 'number'
          ? (err as { code: number }).code
          : 1
        : 0;
      resolve({ code, stdout, stderr });
    });
  });
}

/** kadeploy3 running in the background: wait for lines of its output, signal it, collect its result. */
function startKadeploy3(args: string[]) {
  const env: NodeJS.ProcessEnv = { ...process.env, KAPLOY_CLIENT_CONFIG: path.join(work, 'client.yaml') };
  delete env.KAPLOY_TOKEN_FILE;
  delete env.KAPLOY_TOKEN_DIR;
  const child = spawn(process.execPath, [cli('kadeploy3'), ...args], {
    env,
    cwd: work,
    stdio: ['ignore', 'pipe', 'pipe'],
  });
  let stdout = '';
  let stderr = '';
  const waiters: { re: RegExp; resolve: () => void }[] = [];
  child.stdout.on('data', (d: Buffer) => {
    stdout += d.toString();
    for (const w of waiters.filter((x) => x.re.test(stdout))) w.resolve();
  });
  child.stderr.on('data', (d: Buffer) => {
    stderr += d.toString();
  });
  const done = new Promise<RunResult>((resolve) =>
    child.on('close', (code) => resolve({ code: code ?? 1, stdout, stderr })),
  );
  return {
    child,
    done,
    /** Resolves once stdout matches; fails if kadeploy3 ends first. */
    waitFor: (re: RegExp) =>
      Promise.race([
        new Promise<void>((resolve) => (re.test(stdout) ? resolve() : waiters.push({ re, resolve }))),
        done.then((r) => {
          if (!re.test(r.stdout))
            throw new Error(`kadeploy3 ended (${r.code}) before ${re}:\n${r.stdout}\n${r.stderr}`);
        }),
      ]),
  };
}

const fault = async (s: Site, node: string, kind: string, ...more: string[]) => {
  const r = await s.run('kaploy', ['testbed', 'fault', '--dir', s.dir, node, kind, ...more]);
  expect(r.code).toBe(0);
};

const lines = (text: string) => text.split('\n').filter((l) => l !== '');
const sorted = (file: string) => lines(readFileSync(file, 'utf8')).sort();

beforeAll(async () => {
  // Settled, not Promise.all: when one site fails to start, afterAll still stops the other.
  const started = await Promise.allSettled([
    startSite({ nodes: 2, site: 'gridsa' }),
    startSite({ nodes: 2, site: 'gridsb' }),
  ]);
  const [a, b] = started.map((r) => (r.status === 'fulfilled' ? r.value : undefined));
  sa = a as Site;
  sb = b as Site;
  for (const r of started) if (r.status === 'rejected') throw r.reason;
  work = mkdtempSync(path.join(os.tmpdir(), 'kaploy-grid-'));
  writeFileSync(
    path.join(work, 'client.yaml'),
    [
      'default: gridsa',
      'servers:',
      `  gridsa: { url: "${engineUrl(sa)}", token_file: "${path.join(sa.dir, 'tokens', user)}" }`,
      `  gridsb: { url: "${engineUrl(sb)}", token_file: "${path.join(sb.dir, 'tokens', user)}" }`,
      '',
    ].join('\n'),
  );
  // The tutorial's depot: the image and the authorized_keys published over HTTP.
  const files: Record<string, string> = {
    '/tiny.tgz': path.join(sa.dir, 'images', 'tiny-x64-base-1.0.tgz'),
    '/authorized_keys': userKey(),
    '/grid-env.yaml': path.join(work, 'grid-env.yaml'),
  };
  depot = createServer((req, res) => {
    depotHits.push(req.url ?? '');
    const f = files[req.url ?? ''];
    if (!f) {
      res.writeHead(404).end();
      return;
    }
    res.writeHead(200);
    createReadStream(f).pipe(res);
  });
  await new Promise<void>((r) => depot.listen(0, '127.0.0.1', r));
  depotUrl = `http://127.0.0.1:${(depot.address() as AddressInfo).port}`;
}, 180_000);

afterAll(async () => {
  depot?.close();
  await Promise.all([sa?.down(), sb?.down()]);
  if (work) rmSync(work, { recursive: true, force: true });
});

describe('kadeploy3 -M (multi-server)', () => {
  it('deploys every node of a grid_nodes file on its own site, with site-prefixed output and one summary', async () => {
    // The tutorial, typed in a shell: each site's OAR node file (each host once per core) goes
    // through `uniq` into ~/nodes, the frontend concatenates them; the second site's file is
    // appended raw here, so kadeploy3 itself folds its duplicates. `-k` alone: ~/.ssh/authorized_keys.
    const home = path.join(work, 'home');
    const oarFile = (s: Site) => [...s.nodes, ...s.nodes].sort().join('\n');
    mkdirSync(path.join(home, '.ssh'), { recursive: true });
    copyFileSync(userKey(), path.join(home, '.ssh', 'authorized_keys'));
    writeFileSync(path.join(work, 'oar-a'), `${oarFile(sa)}\n`);
    writeFileSync(path.join(work, 'oar-b'), `${oarFile(sb)}\n`);
    const r = await gridSh(
      [
        'uniq $OAR_NODEFILE_A > ~/nodes',
        'cat ~/nodes > ~/grid_nodes && cat $OAR_NODEFILE_B >> ~/grid_nodes',
        'kadeploy3 -f ~/grid_nodes --multi-server -e tiny-x64-base -u deploy -k -o ok1 -n ko1',
      ].join('\n'),
      { HOME: home, OAR_NODEFILE_A: path.join(work, 'oar-a'), OAR_NODEFILE_B: path.join(work, 'oar-b') },
    );
    const ok = path.join(work, 'ok1');
    const ko = path.join(work, 'ko1');
    expect(r.stderr).toBe('');
    expect(r.code).toBe(0);
    const out = lines(r.stdout);
    // sprintf("%-10s", "[name] "): "[gridsa] " padded to ten characters.
    expect(out.filter((l) => l.startsWith('[gridsa]  ')).length).toBeGreaterThan(3);
    expect(out.filter((l) => l.startsWith('[gridsb]  ')).length).toBeGreaterThan(3);
    expect(out).toContain(`[gridsa]  Grab the key file ${path.join(home, '.ssh', 'authorized_keys')}`);
    expect(out.some((l) => /^\[gridsb\] {2}Deployment #?D-[\w-]+ done/.test(l))).toBe(true);
    // One summary, after both logs, with all four nodes.
    expect(r.stdout.match(/The deployment is successful on nodes/g)).toHaveLength(1);
    const summary = r.stdout.slice(r.stdout.indexOf('The deployment is successful on nodes'));
    expect(lines(summary).slice(1).sort()).toEqual([...sa.nodes, ...sb.nodes].sort());
    expect(sorted(ok)).toEqual([...sa.nodes, ...sb.nodes].sort());
    expect(readFileSync(ko, 'utf8')).toBe('');
    const key = readFileSync(userKey(), 'utf8').trim();
    for (const [s, n] of [
      ...sa.nodes.map((n) => [sa, n] as const),
      ...sb.nodes.map((n) => [sb, n] as const),
    ]) {
      expect(readFileSync(s.disk(n, 3, 'etc/os-release'), 'utf8')).toMatch(/ID=tiny-x64-base/);
      expect(readFileSync(s.disk(n, 3, 'root/.ssh/authorized_keys'), 'utf8')).toContain(key);
    }
  });

  it('on a terminal, one progress line over both sites on stderr, wiped before every log line', async () => {
    const out: string[] = [];
    const err: string[] = [];
    const capture = (into: string[]) =>
      new Writable({
        write(chunk, _enc, cb) {
          into.push(String(chunk));
          cb();
        },
      });
    // A terminal, as a user's: stderr is a TTY and TERM names a terminal type (progressWanted).
    const tty = Object.assign(capture(err), { isTTY: true });
    vi.stubEnv('TERM', 'xterm');
    vi.stubEnv('KAPLOY_PROGRESS', undefined);
    const servers = (
      [
        [sa, 'gridsa'],
        [sb, 'gridsb'],
      ] as const
    ).map(([s, name]) => ({
      name,
      url: engineUrl(s),
      tokenFile: path.join(s.dir, 'tokens', user),
    }));
    const res = await runDeployment(
      {
        nodes: [sa.nodes[0] as string, sb.nodes[0] as string],
        environment: { kind: 'recorded', name: 'tiny-x64-base', user: 'deploy' },
        request: {},
        verbose: 2,
        wait: true,
        dryRun: false,
        multiServer: true,
      },
      { out: capture(out), err: tty },
      new AbortController().signal,
      gridSites(servers),
    );
    expect(res.outcomes.map((x) => x.status)).toEqual(['ok', 'ok']);
    // Drawn at the start (and redrawn as the sites report), always on stderr, wiped at the end.
    expect(err[0]).toBe(`\r\x1b[K[0s] gridsa: starting | gridsb: starting`);
    expect(err.at(-1)).toBe('\r\x1b[K');
    expect(err.filter((c) => c.startsWith('\r\x1b[K[')).every((c) => c.includes(` | gridsb: `))).toBe(true);
    // The log and the summary carry no terminal control, and every log line is site-prefixed.
    const text = out.join('');
    expect(text).not.toContain('\x1b');
    expect(text).toContain('The deployment is successful on nodes');
    const log = lines(text.slice(0, text.indexOf('\nThe deployment is successful')));
    expect(log.length).toBeGreaterThan(0);
    expect(log.every((l) => l.startsWith(`[gridsa]`) || l.startsWith(`[gridsb]`))).toBe(true);
  });

  it('refuses nodes no server serves, and starts nothing on any site', async () => {
    const before = await Promise.all([statRows(sa), statRows(sb)]);
    // The first test's deployment left one row per node on each site.
    for (const n of before) expect(n).toBeGreaterThanOrEqual(2);
    const r = await kadeploy3([
      '-M',
      '-m',
      sa.nodes[0] as string,
      '-m',
      sb.nodes[0] as string,
      '-m',
      'node-7.nowhere',
      '-e',
      'tiny-x64-base',
      '-u',
      'deploy',
    ]);
    expect(r.code).toBe(3);
    expect(r.stderr).toBe(
      'kadeploy3: The nodes node-7.nowhere does not belongs to any server [KAPLOY_NODE_LIST]\n',
    );
    expect(r.stdout).toBe('');
    expect(await Promise.all([statRows(sa), statRows(sb)])).toEqual(before);
  });

  it('deploys an anonymous description whose image each site fetches from a web server, with -k URL', async () => {
    const desc = path.join(work, 'grid-env.yaml');
    writeFileSync(
      desc,
      [
        '---',
        'name: grid-tiny',
        'version: 1',
        'os: linux',
        `image: { file: "${depotUrl}/tiny.tgz", kind: tar, compression: gzip }`,
        'boot: { kernel: /boot/vmlinuz, initrd: /boot/initrd.img }',
        'filesystem: ext4',
        'partition_type: 131',
        '',
      ].join('\n'),
    );
    depotHits.length = 0;
    const ok = path.join(work, 'ok-anon');
    const n1 = sa.nodes[1] as string;
    const n2 = sb.nodes[1] as string;
    const r = await kadeploy3([
      '-M',
      '-m',
      n1,
      '-m',
      n2,
      '-a',
      desc,
      '-k',
      `${depotUrl}/authorized_keys`,
      '-o',
      ok,
    ]);
    expect(r.stderr).toBe('');
    expect(r.code).toBe(0);
    expect(sorted(ok)).toEqual([n1, n2].sort());
    expect(lines(r.stdout)).toContain(`[gridsb]  Grab the key file ${depotUrl}/authorized_keys`);
    expect(readFileSync(sa.disk(n1, 3, 'etc/os-release'), 'utf8')).toMatch(/ID=tiny-x64-base/);
    expect(readFileSync(sb.disk(n2, 3, 'etc/os-release'), 'utf8')).toMatch(/ID=tiny-x64-base/);
    expect(readFileSync(sb.disk(n2, 3, 'root/.ssh/authorized_keys'), 'utf8')).toContain(
      readFileSync(userKey(), 'utf8').trim(),
    );
    // The client downloaded the keys once; each engine downloaded the image itself, once (cached).
    expect(depotHits.filter((u) => u === '/authorized_keys')).toHaveLength(1);
    expect(depotHits.filter((u) => u === '/tiny.tgz')).toHaveLength(2);
  });

  it('checks an anonymous description given by URL on every site with --dry-run, deploying nothing', async () => {
    const before = await Promise.all([statRows(sa), statRows(sb)]);
    const r = await kadeploy3([
      '-M',
      '-m',
      sa.nodes[0] as string,
      '-m',
      sb.nodes[0] as string,
      '-a',
      `${depotUrl}/grid-env.yaml`,
      '--dry-run',
    ]);
    expect(r.stderr).toBe('');
    expect(r.code).toBe(0);
    expect(r.stdout).toMatch(/^\[gridsa\] {2}Dry run: deployment of grid-tiny\S* on 1 node\(s\)$/m);
    expect(r.stdout).toMatch(/^\[gridsb\] {2}Dry run: deployment of grid-tiny\S* on 1 node\(s\)$/m);
    expect(await Promise.all([statRows(sa), statRows(sb)])).toEqual(before);
  });

  it('runs -s once after every site finished; a missing script prints Fail ! once (exit 0)', async () => {
    const missing = path.join(work, 'no-such-script.sh');
    const r = await kadeploy3([
      '-M',
      '-m',
      sa.nodes[0] as string,
      '-m',
      sb.nodes[0] as string,
      '-e',
      'tiny-x64-base',
      '-u',
      'deploy',
      '-s',
      missing,
    ]);
    expect(r.stderr).toBe('');
    expect(r.code).toBe(0);
    expect(r.stdout.match(/^Fail !$/gm)).toHaveLength(1);
    // Unprefixed, after the merged summary.
    const summary = r.stdout.slice(r.stdout.indexOf('The deployment is successful on nodes'));
    expect(lines(summary)).toEqual([
      'The deployment is successful on nodes',
      ...[sa.nodes[0], sb.nodes[0]],
      `Running ${missing}`,
      'Fail !',
    ]);
  });

  it('refuses --no-wait with -s as on one site (exit 3), starting nothing on any site', async () => {
    const before = await Promise.all([statRows(sa), statRows(sb)]);
    const r = await kadeploy3([
      '-M',
      '-m',
      sa.nodes[0] as string,
      '-m',
      sb.nodes[0] as string,
      '-e',
      'tiny-x64-base',
      '-u',
      'deploy',
      '--no-wait',
      '-s',
      '/bin/true',
    ]);
    expect(r.code).toBe(3);
    expect(r.stderr).toBe(
      'kadeploy3: -s/--script cannot be used with --no-wait (the script runs after the deployment, which kadeploy3 does not wait for) [KAPLOY_CONFLICTING_OPTIONS]\n',
    );
    expect(r.stdout).toBe('');
    expect(await Promise.all([statRows(sa), statRows(sb)])).toEqual(before);
  });

  it('cancels the deployment on every site on Ctrl-C (exit 130, nodes in the KO file)', async () => {
    // Nodes that never come back from their reboot keep both deployments running until cancelled.
    const a = sa.nodes[1] as string;
    const b = sb.nodes[1] as string;
    await fault(sa, a, 'no_reboot', '--when', 'reboot');
    await fault(sb, b, 'no_reboot', '--when', 'reboot');
    try {
      const ko = path.join(work, 'ko-cancel');
      const run = startKadeploy3([
        '-M',
        '-m',
        a,
        '-m',
        b,
        '-e',
        'tiny-x64-base',
        '-u',
        'deploy',
        '-n',
        ko,
        '--poll-interval',
        '100',
      ]);
      await Promise.all([
        run.waitFor(/^\[gridsa\] {2} +wait_reboot/m),
        run.waitFor(/^\[gridsb\] {2} +wait_reboot/m),
      ]);
      run.child.kill('SIGINT');
      const r = await run.done;
      expect(r.code).toBe(130);
      expect(r.stderr).toMatch(/^\[gridsa\] {2}Cancelling D-/m);
      expect(r.stderr).toMatch(/^\[gridsb\] {2}Cancelling D-/m);
      expect(r.stdout).toMatch(/The deployment failed on nodes\n/);
      expect(sorted(ko)).toEqual([a, b].sort());
      // Both engines record the cancellation: no deployment is left running on either site.
      for (const [s, name] of [
        [sa, 'gridsa'],
        [sb, 'gridsb'],
      ] as const) {
        const wid = new RegExp(`^\\[${name}\\] {2}Cancelling (D-[\\w-]+)`, 'm').exec(r.stderr)?.[1] as string;
        const client = new ApiClient({
          url: engineUrl(s),
          token: readToken(path.join(s.dir, 'tokens', user)),
        });
        try {
          const st = await client.request<OperationStatus>('GET', `/deployment/${wid}`);
          expect(st.status).toBe('cancelled');
        } finally {
          await client.close();
        }
      }
    } finally {
      await fault(sa, a, 'clear');
      await fault(sb, b, 'clear');
    }
  });

  it('makes the nodes of a site that refuses KO while the other site deploys (exit 1)', async () => {
    // An environment recorded on site A only: site B refuses it, site A deploys.
    const desc = path.join(work, 'only-a.yaml');
    writeFileSync(
      desc,
      [
        '---',
        'name: grid-only-a',
        'version: 1',
        'os: linux',
        `image: { file: "server://${path.join(sa.dir, 'images', 'tiny-x64-base-1.0.tgz')}", kind: tar, compression: gzip }`,
        'boot: { kernel: /boot/vmlinuz, initrd: /boot/initrd.img }',
        'filesystem: ext4',
        'partition_type: 131',
        '',
      ].join('\n'),
    );
    const add = await sa.run('kaenv3', ['-a', desc]);
    expect(add.stderr).toBe('');
    expect(add.code).toBe(0);
    const ko = path.join(work, 'ko-refused');
    const r = await kadeploy3([
      '-M',
      '-m',
      sa.nodes[0] as string,
      '-m',
      sb.nodes[0] as string,
      '-e',
      'grid-only-a',
      '-n',
      ko,
    ]);
    expect(r.code).toBe(1);
    expect(r.stderr).toMatch(/^\[gridsb\] {2}error: .*\[KAPLOY_ENVIRONMENT\]$/m);
    expect(r.stdout).toMatch(
      new RegExp(
        `The deployment failed on nodes\\n${sb.nodes[0]?.replace(/\./g, '\\.')} \\(Server-refused: `,
      ),
    );
    expect(sorted(ko)).toEqual([sb.nodes[0]]);
  });

  it('reports the nodes of a site whose engine dies during the deployment as KO; the other site finishes (exit 1)', async () => {
    const b = sb.nodes[1] as string;
    await fault(sb, b, 'no_reboot', '--when', 'reboot');
    const ok = path.join(work, 'ok-lost');
    const ko = path.join(work, 'ko-lost');
    const run = startKadeploy3([
      '-M',
      '-m',
      sa.nodes[0] as string,
      '-m',
      b,
      '-e',
      'tiny-x64-base',
      '-u',
      'deploy',
      '-o',
      ok,
      '-n',
      ko,
      '--poll-interval',
      '100',
    ]);
    await run.waitFor(/^\[gridsb\] {2} +wait_reboot/m);
    process.kill(Number(readFileSync(path.join(sb.dir, 'engine.pid'), 'utf8').trim()), 'SIGKILL');
    const r = await run.done;
    expect(r.code).toBe(1);
    expect(r.stderr).toMatch(/^\[gridsb\] {2}error: cannot reach the kaploy server gridsb/m);
    expect(r.stdout).toMatch(
      new RegExp(`The deployment failed on nodes\\n${b.replace(/\./g, '\\.')} \\(Server-lost: `),
    );
    expect(sorted(ok)).toEqual([sa.nodes[0]]);
    expect(sorted(ko)).toEqual([b]);
  });

  it('reports the nodes of a site whose engine is down as KO and deploys the other site (exit 1)', async () => {
    // The previous test killed site B's engine: the probe drops it.
    const ok = path.join(work, 'ok-down');
    const ko = path.join(work, 'ko-down');
    const r = await kadeploy3([
      '-M',
      '-m',
      sa.nodes[0] as string,
      '-m',
      sb.nodes[0] as string,
      '-m',
      sb.nodes[1] as string,
      '-e',
      'tiny-x64-base',
      '-u',
      'deploy',
      '-o',
      ok,
      '-n',
      ko,
    ]);
    expect(r.code).toBe(1);
    expect(r.stderr).toMatch(
      /^kadeploy3: warning: server gridsb dropped: cannot reach the kaploy server gridsb/m,
    );
    expect(r.stdout).toMatch(/The deployment is successful on nodes\n/);
    expect(r.stdout).toMatch(
      /The deployment failed on nodes\n.*\(Server-unreachable: server gridsb unreachable/,
    );
    expect(sorted(ok)).toEqual([sa.nodes[0]]);
    expect(sorted(ko)).toEqual([...sb.nodes].sort());
  });
});
