import { execFile, spawn } from 'node:child_process';
import { existsSync, mkdtempSync, readFileSync, rmSync, statSync, writeFileSync } from 'node:fs';
import { request as httpRequest } from 'node:http';
import { connect } from 'node:net';
import os from 'node:os';
import path from 'node:path';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { loadSiteConfig, nodeIndex } from '../../../src/common/site-config.js';
import { ipHex, renderProfile } from '../../../src/formats/pxe-profile.js';
import type { TestbedState } from '../../../src/testbed/manager/testbed-state.js';
import { kaploy, kaployJs, knownHostKey, sshExec, upSmallSite, waitFor } from './helpers.js';

const dir = mkdtempSync(path.join(os.tmpdir(), 'kaploy-tb-'));
const site = `t${process.pid}`;
let sshPort = 0;
let state: TestbedState;
let bmc = '';
let engineKey: Buffer;

const isOpen = (host: string, port: number) =>
  new Promise<boolean>((resolve) => {
    const s = connect({ host, port });
    s.once('connect', () => {
      s.destroy();
      resolve(true);
    });
    s.once('error', () => resolve(false));
  });

const processGone = (pid: number) => {
  try {
    const stat = readFileSync(`/proc/${pid}/stat`, 'utf8');
    return stat.slice(stat.lastIndexOf(')') + 2).startsWith('Z');
  } catch {
    return true;
  }
};

// The control API wants its bearer token (DIR/keys/bmc-token), as the engine sends it.
const bmcFetch = (p: string, init: RequestInit = {}) =>
  fetch(`${bmc}${p}`, {
    ...init,
    headers: {
      ...(init.headers as Record<string, string> | undefined),
      authorization: `Bearer ${readFileSync(path.join(dir, 'keys', 'bmc-token'), 'utf8').trim()}`,
    },
  });
const status = async () =>
  (await (await bmcFetch('/nodes')).json()) as { name: string; power: string; state: string }[];
const nodeState = async (n: string) => (await status()).find((s) => s.name === n)?.state;

beforeAll(async () => {
  const up = await upSmallSite({ dir, site, nodes: 3 });
  ({ sshPort, state } = up);
  const r = up.result;
  expect(r.stdout).toContain(`. ${path.join(dir, 'env')}`);
  // stderr is a pipe here: progress as plain lines (no live line), each phase, the last at 3/3.
  const progress = r.stderr.split('\n').filter((l) => l.startsWith('testbed up: '));
  expect(r.stderr).not.toContain('\r');
  expect(progress[0]).toMatch(/^testbed up: site files written \(3 nodes\), \d+ s$/);
  expect(progress).toContainEqual(expect.stringMatching(/^testbed up: nodes started 3\/3, \d+ s$/));
  expect(progress).toContainEqual(expect.stringMatching(/^testbed up: nodes booted 3\/3, \d+ s$/));
  expect(progress.at(-1)).toMatch(/^testbed up: engine starting \(3 nodes\), \d+ s$/);
  bmc = `http://127.0.0.1:${state.bmcPort}`;
  engineKey = readFileSync(path.join(dir, 'keys', 'engine'));
}, 180_000);

afterAll(async () => {
  await kaploy(['testbed', 'down', '--dir', dir]);
  rmSync(dir, { recursive: true, force: true });
});

describe('kaploy testbed up / status / down', () => {
  const node1 = () => `node-1.${site}`;
  const addr1 = () => state && loadSiteConfig(path.join(dir, 'site.yaml')).clusters[0]?.nodes[0]?.address;

  it('writes a site configuration that loads and names every node, and the client files', () => {
    const cfg = loadSiteConfig(path.join(dir, 'site.yaml'));
    expect(cfg.site).toBe(site);
    expect([...nodeIndex(cfg).keys()]).toEqual([1, 2, 3].map((i) => `node-${i}.${site}`));
    const c = cfg.clusters[0];
    expect(c?.name).toBe(`${site}-c1`);
    expect(c?.sshPort).toBe(sshPort);
    expect(c?.commands.reboot.hard).toEqual({
      kind: 'http',
      method: 'POST',
      url: `${bmc}/nodes/{node}/reboot?level=hard`,
      tokenFile: path.join(dir, 'keys', 'bmc-token'),
    });
    expect(c?.commands.console?.kind).toBe('argv');
    expect(cfg.bootDir).toBe(path.join(dir, 'tftp', 'pxelinux.cfg'));
    expect(cfg.imageDirs).toEqual([path.join(dir, 'images')]);
    expect(readFileSync(path.join(dir, 'nodes'), 'utf8')).toBe(
      [1, 2, 3].map((i) => `node-${i}.${site}\n`).join(''),
    );
    const env = readFileSync(path.join(dir, 'env'), 'utf8');
    expect(env).toContain(`export KAPLOY_NODEFILE=${path.join(dir, 'nodes')}\n`);
    expect(env).toContain(`export KAPLOY_SITE_CONFIG=${path.join(dir, 'site.yaml')}\n`);
    expect(env).toContain(`export PATH=${path.join(dir, 'bin')}:"$PATH"\n`);
    expect(statSync(path.join(dir, 'tokens')).mode & 0o777).toBe(0o700);
    expect(statSync(path.join(dir, 'bin', 'kadeploy3')).mode & 0o111).toBe(0o111);
    expect(readFileSync(path.join(dir, 'client.yaml'), 'utf8')).toContain(
      `url: http://127.0.0.1:${state.enginePort}`,
    );
    expect(readFileSync(path.join(dir, 'known_hosts'), 'utf8').trim().split('\n')).toHaveLength(3);
    expect(readFileSync(path.join(dir, 'envs', 'tiny-x64-base.yaml'), 'utf8')).toContain(
      'name: tiny-x64-base',
    );
  });

  it('status lists every node on and in production', async () => {
    const r = await kaploy(['testbed', 'status', '--dir', dir]);
    expect(r.code).toBe(0);
    const lines = r.stdout
      .trim()
      .split('\n')
      .map((l) => l.trim().split(/\s+/));
    expect(lines).toEqual([1, 2, 3].map((i) => [`node-${i}.${site}`, 'on', 'production']));
  });

  it('. DIR/env points the commands at the site: kaploy on PATH, no --dir needed, the node file', async () => {
    const r = await new Promise<{ code: number; out: string }>((resolve) => {
      execFile(
        'sh',
        [
          '-c',
          '. "$1" && kaploy testbed status && cat "$KAPLOY_NODEFILE" && echo "$KAPLOY_TOKEN_FILE"',
          'sh',
          path.join(dir, 'env'),
        ],
        { cwd: os.tmpdir() },
        (err, stdout, stderr) => resolve({ code: err ? (err.code as number) : 0, out: stdout + stderr }),
      );
    });
    expect(r.code).toBe(0);
    const lines = r.out.trim().split('\n');
    expect(lines.slice(0, 3).map((l) => l.split(/\s+/)[2])).toEqual([
      'production',
      'production',
      'production',
    ]);
    expect(lines.slice(3, 6)).toEqual([1, 2, 3].map((i) => `node-${i}.${site}`));
    expect(lines[6]).toBe(path.join(dir, 'tokens', os.userInfo().username));
  });

  it('runs a command over SSH on a node in production, pinning its host key', async () => {
    const address = addr1() as string;
    const r = await sshExec({
      host: address,
      port: sshPort,
      key: engineKey,
      hostKey: knownHostKey(dir, address, sshPort),
      command: 'cat /etc/os-release',
    });
    expect(r.code).toBe(0);
    expect(r.stdout).toContain('ID=prod-env');
  });

  it('OpenSSH reaches a node with ssh -F DIR/ssh_config, checking known_hosts strictly', async () => {
    const r = await new Promise<{ code: number | null; out: string }>((resolve) => {
      execFile(
        'ssh',
        ['-F', path.join(dir, 'ssh_config'), '-o', 'BatchMode=yes', `node-2.${site}`, 'cat /etc/hostname'],
        (err, stdout, stderr) => resolve({ code: err ? (err.code as number) : 0, out: stdout + stderr }),
      );
    });
    expect(r).toEqual({ code: 0, out: 'prod\n' });
  });

  it('powers a node off and on through the BMC API', async () => {
    const address = addr1() as string;
    expect((await bmcFetch(`/nodes/${node1()}/power/off`, { method: 'POST' })).status).toBe(200);
    expect(await (await bmcFetch(`/nodes/${node1()}/power`)).text()).toBe('off');
    expect(await nodeState(node1())).toBe('off');
    expect(await isOpen(address, sshPort)).toBe(false);
    const st = await kaploy(['testbed', 'status', '--dir', dir]);
    expect(st.stdout).toMatch(new RegExp(`node-1\\.${site}\\s+off\\s+off`));
    expect((await bmcFetch(`/nodes/${node1()}/power/on`, { method: 'POST' })).status).toBe(200);
    await waitFor(async () => (await nodeState(node1())) === 'production', 'node-1 back in production');
    const r = await sshExec({
      host: address,
      port: sshPort,
      key: engineKey,
      hostKey: knownHostKey(dir, address, sshPort),
      command: 'hostname',
    });
    expect(r.code).toBe(0);
  });

  it('reboots a node into the deployment environment when its PXE profile says so', async () => {
    const address = addr1() as string;
    writeFileSync(
      path.join(dir, 'tftp', 'pxelinux.cfg', ipHex(address)),
      renderProfile({
        kind: 'deploy_env',
        kernel: 'deploy/vmlinuz',
        initrd: 'deploy/initrd.img',
        params: '',
      }),
    );
    expect((await bmcFetch(`/nodes/${node1()}/reboot?level=hard`, { method: 'POST' })).status).toBe(200);
    await waitFor(
      async () => (await nodeState(node1())) === 'deploy_env',
      'node-1 in the deployment environment',
    );
    expect(await isOpen(address, 25300)).toBe(true);
    rmSync(path.join(dir, 'tftp', 'pxelinux.cfg', ipHex(address)));
  });

  it('validates what the BMC API is given', async () => {
    const post = (p: string, body?: unknown) =>
      bmcFetch(p, {
        method: 'POST',
        ...(body === undefined
          ? {}
          : { body: JSON.stringify(body), headers: { 'content-type': 'application/json' } }),
      });
    expect((await post(`/nodes/${node1()}/reboot?level=gentle`)).status).toBe(400);
    expect((await post('/nodes/nosuch.node/power/on')).status).toBe(404);
    expect((await post('/nodes/bad%3Bname/power/on')).status).toBe(400);
    expect((await post(`/nodes/${node1()}/faults`, { kind: 'meteor' })).status).toBe(400);
    expect((await post(`/nodes/${node1()}/faults`, { kind: 'slow_boot' })).status).toBe(400);
    expect((await post(`/nodes/${node1()}/faults`, { kind: 'hang', when: '(' })).status).toBe(400);
    const ok = await post(`/nodes/${node1()}/faults`, { kind: 'slow_boot', extraMs: 10, times: 1 });
    expect(ok.status).toBe(200);
    expect(((await ok.json()) as { faults: unknown[] }).faults).toEqual([
      { kind: 'slow_boot', extraMs: 10, times: 1 },
    ]);
    expect((await bmcFetch(`/nodes/${node1()}/faults`, { method: 'DELETE' })).status).toBe(200);
    expect((await status()).find((s) => s.name === node1())).toMatchObject({ faults: [] });
  });

  it('refuses the BMC API and the console without the token, which is owner-only and out of the nodes', async () => {
    const token = path.join(dir, 'keys', 'bmc-token');
    expect(statSync(token).mode & 0o777).toBe(0o600);
    expect(readFileSync(path.join(dir, 'testbed.json'), 'utf8')).not.toContain(
      readFileSync(token, 'utf8').trim(),
    );
    const bare = await fetch(`${bmc}/nodes/${node1()}/power/off`, { method: 'POST' });
    expect(bare.status).toBe(401);
    expect(((await bare.json()) as { error: { code: string } }).error.code).toBe('KAPLOY_AUTH');
    for (const authorization of ['Bearer wrong', 'Basic cm9vdDpyb290', `Bearer ${'x'.repeat(2000)}`])
      expect((await fetch(`${bmc}/nodes`, { headers: { authorization } })).status).toBe(401);
    const upgrade = await new Promise<string>((resolve, reject) => {
      const req = httpRequest({
        host: '127.0.0.1',
        port: state.bmcPort,
        path: `/nodes/${node1()}/console`,
        headers: { Connection: 'Upgrade', Upgrade: 'kaploy-console' },
      });
      req.once('upgrade', () => resolve('upgraded'));
      req.once('response', (res) => resolve(String(res.statusCode)));
      req.once('error', reject);
      req.end();
    });
    expect(upgrade).toBe('401');
    // The node is still on: nothing above reached it.
    expect((await status()).find((n) => n.name === node1())?.power).toBe('on');
    // A command on a node cannot read the token: the site's directory is not in its view.
    const r = await sshExec({
      host: addr1() as string,
      port: sshPort,
      key: engineKey,
      hostKey: knownHostKey(dir, addr1() as string, sshPort),
      command: `cat ${token}`,
    });
    expect(r.code).not.toBe(0);
  });

  it('injects and clears faults from the command line', async () => {
    const r = await kaploy(['testbed', 'fault', '--dir', dir, node1(), 'no_reboot', '--times', '2']);
    expect(r.code).toBe(0);
    expect(r.stdout).toContain('"kind":"no_reboot"');
    const bad = await kaploy(['testbed', 'fault', '--dir', dir, node1(), 'slow_boot', '--extra-ms', 'lots']);
    expect(bad.code).toBe(3);
    expect(bad.stderr).toContain('--extra-ms');
    const c = await kaploy(['testbed', 'fault', '--dir', dir, node1(), 'clear']);
    expect(c.stdout).toContain('no faults');
  });

  it('console: login prompt, a root shell in the booted system, ~. closes it', async () => {
    const child = spawn(process.execPath, [kaployJs, 'testbed', 'console', '--dir', dir, `node-3.${site}`], {
      stdio: 'pipe',
    });
    let out = '';
    let err = '';
    child.stdout.on('data', (d: Buffer) => {
      out += d.toString();
    });
    child.stderr.on('data', (d: Buffer) => {
      err += d.toString();
    });
    const exited = new Promise<number | null>((resolve) => child.once('exit', resolve));
    await waitFor(() => out.includes('login: ') || undefined, 'the login prompt');
    child.stdin.write('root\n');
    child.stdin.write('cat /etc/os-release\n');
    await waitFor(() => out.includes('ID=prod-env') || undefined, 'the shell to answer');
    child.stdin.write('~.');
    expect(await exited).toBe(0);
    expect(err).toContain('~.');
  });

  it('refuses a second up in the same directory', async () => {
    const r = await kaploy(['testbed', 'up', '--nodes', '1', '--site', site, '--dir', dir]);
    expect(r.code).toBe(4);
    expect(r.stderr).toContain('already running');
  });

  it('refuses a site whose addresses are taken (same name, other directory), writing nothing', async () => {
    const other = path.join(dir, 'other');
    const r = await kaploy([
      'testbed',
      'up',
      '--nodes',
      '1',
      '--site',
      site,
      '--dir',
      other,
      '--ssh-port',
      String(sshPort),
    ]);
    expect(r.code).toBe(4);
    expect(r.stderr).toContain(`:${sshPort} is already in use`);
    expect(existsSync(other)).toBe(false);
  });

  it('down stops the daemon: control port closed, pid gone, nodes unreachable', async () => {
    const address = addr1() as string;
    const r = await kaploy(['testbed', 'down', '--dir', dir]);
    expect(r.code).toBe(0);
    expect(r.stdout).toContain('stopped');
    expect(await isOpen('127.0.0.1', state.bmcPort)).toBe(false);
    expect(await isOpen(address, sshPort)).toBe(false);
    // Gone, or a zombie waiting for whatever adopted it to reap it: either way not running.
    expect(processGone(state.pid as number)).toBe(true);
    const s = await kaploy(['testbed', 'status', '--dir', dir]);
    expect(s.code).toBe(4);
    expect(s.stderr).toContain('is not running');
  });
});
