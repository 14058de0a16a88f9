import { execFile, spawn } from 'node:child_process';
import { mkdtempSync, readFileSync, rmSync, writeFileSync } from 'node:fs';
import { createServer, type Server } from 'node:http';
import type { AddressInfo } from 'node:net';
import os from 'node:os';
import path from 'node:path';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { parse } from 'yaml';
import { KAPLOY_VERSION } from '../../../src/common/version.js';
import { cli, type RunResult, type Site, startSite } from '../../e2e/helpers/virtual-site.js';

/**
 * -M for every command, end to end: three real virtual sites (nodes + engine each), a client
 * configuration naming the three engines with each site's own token, the real programs. The last
 * test stops one engine with SIGSTOP in the middle of a deployment.
 */
const NAMES = ['gridc1', 'gridc2', 'gridc3'] as const;
let sites: Site[] = [];
let work: string;
const user = os.userInfo().username;
/** Fake engines (for testing the client's checks, not engines): garbage, and another API version. */
const fakes: Server[] = [];

const engineUrl = (s: Site) => {
  const c = parse(readFileSync(path.join(s.dir, 'client.yaml'), 'utf8')) as {
    servers: Record<string, { url: string }>;
  };
  return Object.values(c.servers)[0]?.url as string;
};
const site = (i: number) => sites[i] as Site;
const allNodes = () => sites.flatMap((s) => s.nodes);
const lines = (text: string) => text.split('\n').filter((l) => l !== '');
const sorted = (file: string) => lines(readFileSync(file, 'utf8')).sort();
const esc = (s: string) => s.replace(/[.*+?^${}()|[\]\\]/g, '\\$&');

/** A client configuration: the three sites (and more servers), with this server_timeout. */
function clientConfig(file: string, o: { extra?: string[]; serverTimeout?: number } = {}): string {
  const f = path.join(work, file);
  writeFileSync(
    f,
    [
      'default: gridc1',
      ...(o.serverTimeout ? [`server_timeout: ${o.serverTimeout}`] : []),
      'servers:',
      ...sites.map(
        (s, i) =>
          `  ${NAMES[i]}: { url: "${engineUrl(s)}", token_file: "${path.join(s.dir, 'tokens', user)}" }`,
      ),
      ...(o.extra ?? []),
      '',
    ].join('\n'),
  );
  return f;
}

function env(config: string): NodeJS.ProcessEnv {
  const e: NodeJS.ProcessEnv = { ...process.env, KAPLOY_CLIENT_CONFIG: config };
  delete e.KAPLOY_TOKEN_FILE;
  delete e.KAPLOY_TOKEN_DIR;
  return e;
}

/** A real command with the grid configuration and no $KAPLOY_TOKEN_FILE (per-server tokens). */
function command(cmd: string, args: string[], config = path.join(work, 'client.yaml')): Promise<RunResult> {
  return new Promise((resolve) => {
    execFile(
      process.execPath,
      [cli(cmd), ...args],
      { env: env(config), cwd: work, maxBuffer: 64 << 20 },
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

async function fakeEngine(answer: string): Promise<string> {
  const s = createServer((req, res) => {
    req.resume();
    res.writeHead(200, { 'content-type': 'application/json' }).end(answer);
  });
  await new Promise<void>((r) => s.listen(0, '127.0.0.1', r));
  fakes.push(s);
  return `http://127.0.0.1:${(s.address() as AddressInfo).port}`;
}

beforeAll(async () => {
  // Settled, not Promise.all: when one site fails to start, afterAll still stops the others.
  const started = await Promise.allSettled(NAMES.map((n) => startSite({ nodes: 2, site: n })));
  sites = started.filter((r) => r.status === 'fulfilled').map((r) => r.value);
  for (const r of started) if (r.status === 'rejected') throw r.reason;
  work = mkdtempSync(path.join(os.tmpdir(), 'kaploy-grid3-'));
  clientConfig('client.yaml');
}, 240_000);

afterAll(async () => {
  for (const f of fakes) f.close();
  await Promise.all(sites.map((s) => s.down()));
  if (work) rmSync(work, { recursive: true, force: true });
});

describe('-M for every command, three virtual sites', () => {
  it('kareboot3 -M reboots each node on its own site: prefixed logs, one summary, -o/-n, exit 0', async () => {
    const ok = path.join(work, 'reboot-ok');
    const ko = path.join(work, 'reboot-ko');
    const args = ['-M', ...allNodes().flatMap((n) => ['-m', n]), '-o', ok, '-n', ko];
    const r = await command('kareboot3', args);
    expect(r.stderr).toBe('');
    expect(r.code).toBe(0);
    for (const n of NAMES) expect(r.stdout).toMatch(new RegExp(`^${esc(`[${n}]`)} {2}`, 'm'));
    expect(r.stdout.match(/The reboot is successful on nodes/g)).toHaveLength(1);
    const summary = r.stdout.slice(r.stdout.indexOf('The reboot is successful on nodes'));
    expect(lines(summary)).toEqual(['The reboot is successful on nodes', ...allNodes()]);
    expect(sorted(ok)).toEqual(allNodes().sort());
    expect(readFileSync(ko, 'utf8')).toBe('');
  });

  it('kastat3 -M prints one CSV over every site, the server name as a first field, one header', async () => {
    const r = await command('kastat3', ['-M', '-o', 'reboot', '-F', 'hostname,step1,success', '--header']);
    expect(r.stderr).toBe('');
    expect(r.code).toBe(0);
    const [header, ...rows] = lines(r.stdout);
    expect(header).toBe('server,hostname,step1,success');
    // Sites stream concurrently: records interleave between sites, each site's in its order.
    const expected = sites.flatMap((s, i) => s.nodes.map((n) => `${NAMES[i]},${n},Simple,true`));
    expect([...rows].sort()).toEqual(expected.sort());
    for (const [i, s] of sites.entries())
      expect(rows.filter((l) => l.startsWith(`${NAMES[i]},`))).toEqual(
        s.nodes.map((n) => `${NAMES[i]},${n},Simple,true`),
      );
    // Same filters as one site: -m keeps one node of one site; the others answer nothing.
    const one = await command('kastat3', [
      '-M',
      '-o',
      'reboot',
      '-F',
      'hostname,success',
      '-m',
      site(1).nodes[0] as string,
    ]);
    expect(one.code).toBe(0);
    expect(one.stdout).toBe(`gridc2,${site(1).nodes[0]},true\n`);
    // -S names one server: with -M it is a bad command line.
    const bad = await command('kastat3', ['-M', '-S', 'gridc1']);
    expect(bad.code).toBe(3);
    expect(bad.stderr).toBe(
      'kastat3: -M/--multi-server cannot be used with -S (one per site) [KAPLOY_CONFLICTING_OPTIONS]\n',
    );
  });

  it('kapower3 -M --status prints every node of every site once, merged', async () => {
    const r = await command('kapower3', ['-M', '--status', ...allNodes().flatMap((n) => ['-m', n])]);
    expect(r.stderr).toBe('');
    expect(r.code).toBe(0);
    const states = lines(r.stdout).filter((l) => !l.startsWith('['));
    expect(states).toEqual(
      [...allNodes()].sort((a, b) => a.localeCompare(b, 'en', { numeric: true })).map((n) => `${n}: on`),
    );
  });

  it('kanodes3 -M shows every site, each line prefixed; -m asks each site about its own nodes', async () => {
    const r = await command('kanodes3', ['-M']);
    expect(r.stderr).toBe('');
    expect(r.code).toBe(0);
    for (const [i, s] of sites.entries()) {
      const mine = lines(r.stdout).filter((l) => l.startsWith(`[${NAMES[i]}]`));
      expect(mine[0]).toMatch(/^\[gridc\d\] {2}NODE +STATE +ENVIRONMENT +ENV_USER +USER +OPERATION$/);
      expect(mine.slice(1).map((l) => l.split(/\s+/)[1])).toEqual(s.nodes);
    }
    const m = await command('kanodes3', ['-M', '-m', site(2).nodes[1] as string]);
    expect(m.code).toBe(0);
    expect(lines(m.stdout)).toHaveLength(2);
    expect(lines(m.stdout)[1]).toMatch(new RegExp(`^\\[gridc3\\] {2}${esc(site(2).nodes[1] as string)} `));
    const w = await command('kanodes3', ['-M', '-w', 'D-00000000-0000-0000-0000-000000000000']);
    expect(w.code).toBe(3);
  });

  it('kaenv3 -l -M lists the environments of every site, prefixed; other actions are refused', async () => {
    const r = await command('kaenv3', ['-l', '-M', '-u', 'deploy']);
    expect(r.stderr).toBe('');
    expect(r.code).toBe(0);
    for (const n of NAMES) {
      const mine = lines(r.stdout).filter((l) => l.startsWith(`[${n}]`));
      expect(mine[0]).toBe(`${`[${n}] `.padEnd(10)}Name                  Version User        Description`);
      expect(mine.some((l) => /^\[gridc\d\] {2}tiny-x64-base +\d+ +deploy/.test(l))).toBe(true);
    }
    const add = await command('kaenv3', ['-M', '-p', 'tiny-x64-base', '-u', 'deploy']);
    expect(add.code).toBe(3);
    expect(add.stdout).toBe('');
  });

  it('a server answering garbage or another API version is a clear error of its own; the others answer (exit 1)', async () => {
    const junk = await fakeEngine('<html>not an engine</html>');
    const other = await fakeEngine('{"version":"9.0.0","site":"future"}');
    const shape = await fakeEngine('{"hello":"world"}');
    const tok = path.join(site(0).dir, 'tokens', user);
    const cfg = clientConfig('client-fakes.yaml', {
      extra: [
        `  junk: { url: "${junk}", token_file: "${tok}" }`,
        `  future: { url: "${other}", token_file: "${tok}" }`,
        `  shape: { url: "${shape}", token_file: "${tok}" }`,
      ],
    });
    const r = await command('kastat3', ['-M', '-o', 'reboot', '-F', 'hostname'], cfg);
    expect(r.code).toBe(1);
    expect(lines(r.stdout)).toHaveLength(allNodes().length);
    expect(lines(r.stderr).sort()).toEqual([
      `[future]  error: server future unreachable: server future runs kaploy 9.0.0, whose API differs from this client's (${KAPLOY_VERSION})`,
      '[junk]    error: server junk unreachable: server junk answered 200 with a non-JSON body',
      '[shape]   error: server shape unreachable: server shape did not answer GET /version as a kaploy engine does (expected {"version": "X.Y.Z", ...})',
    ]);
  });

  it('refuses a node two servers serve before anything starts (exit 3)', async () => {
    const tok = path.join(site(0).dir, 'tokens', user);
    const cfg = clientConfig('client-twice.yaml', {
      extra: [`  again: { url: "${engineUrl(site(0))}", token_file: "${tok}" }`],
    });
    const n = site(0).nodes[0] as string;
    const before = await command('kastat3', ['-S', 'gridc1', '-o', 'all', '-F', 'wid']);
    const r = await command('kareboot3', ['-M', '-m', n, '-m', site(1).nodes[0] as string], cfg);
    expect(r.code).toBe(3);
    expect(r.stdout).toBe('');
    expect(r.stderr).toBe(
      `kareboot3: several servers serve the nodes ${n} (gridc1, again): a node must belong to one site; fix the sites' configurations or leave the node out [KAPLOY_NODE_LIST]\n`,
    );
    const after = await command('kastat3', ['-S', 'gridc1', '-o', 'all', '-F', 'wid']);
    expect(after.stdout).toBe(before.stdout);
  });

  it('a site whose engine hangs (SIGSTOP) mid-deployment is Server-lost; the others finish (exit 1)', async () => {
    const cfg = clientConfig('client-hang.yaml', { serverTimeout: 3 });
    const hung = site(2);
    const b = hung.nodes[0] as string;
    // A node that never comes back from its reboot keeps site 3's deployment running.
    const f = await hung.run('kaploy', [
      'testbed',
      'fault',
      '--dir',
      hung.dir,
      b,
      'no_reboot',
      '--when',
      'reboot',
    ]);
    expect(f.code).toBe(0);
    const pid = Number(readFileSync(path.join(hung.dir, 'engine.pid'), 'utf8').trim());
    const ok = path.join(work, 'hang-ok');
    const ko = path.join(work, 'hang-ko');
    const nodes = [site(0).nodes[0], site(1).nodes[0], b] as string[];
    const child = spawn(
      process.execPath,
      [
        cli('kadeploy3'),
        '-M',
        ...nodes.flatMap((n) => ['-m', n]),
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
      ],
      { env: env(cfg), cwd: work, stdio: ['ignore', 'pipe', 'pipe'] },
    );
    let stdout = '';
    let stderr = '';
    let stopped = false;
    child.stdout.on('data', (d: Buffer) => {
      stdout += d.toString();
      if (!stopped && /^\[gridc3\] {2} +wait_reboot/m.test(stdout)) {
        stopped = true;
        process.kill(pid, 'SIGSTOP');
      }
    });
    child.stderr.on('data', (d: Buffer) => {
      stderr += d.toString();
    });
    try {
      const code = await new Promise<number>((resolve) => child.on('close', (c) => resolve(c ?? -1)));
      expect(stopped).toBe(true);
      expect(code).toBe(1);
      expect(stderr).toMatch(
        /^\[gridc3\] {2}error: the kaploy server gridc3 at \S+ stopped answering: nothing heard from it for 3 s \(server_timeout\)/m,
      );
      expect(stdout).toMatch(
        new RegExp(`The deployment failed on nodes\\n${esc(b)} \\(Server-lost: the kaploy server gridc3 `),
      );
      expect(sorted(ok)).toEqual([site(0).nodes[0], site(1).nodes[0]].sort());
      expect(sorted(ko)).toEqual([b]);
    } finally {
      if (stopped) process.kill(pid, 'SIGCONT');
      await hung.run('kaploy', ['testbed', 'fault', '--dir', hung.dir, b, 'clear']);
    }
  });
});
