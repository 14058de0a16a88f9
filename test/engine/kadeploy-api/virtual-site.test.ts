import { appendFileSync, readFileSync } from 'node:fs';
import http from 'node:http';
import net, { type AddressInfo } from 'node:net';
import os from 'node:os';
import path from 'node:path';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { parse } from 'yaml';
import { startEngine as restartTestbedEngine } from '../../../src/testbed/manager/engine-process.js';
import { testbedLayout } from '../../../src/testbed/manager/layout.js';
import { type Site, startSite } from '../../e2e/helpers/virtual-site.js';
import { runningSystem } from '../nodeops/helpers/nodeops-site.js';
import { call } from './helpers.js';

/**
 * g5k-api's way in, end to end: a virtual site whose engine (the real `kaploy server` process)
 * serves the Kadeploy-compatible API on its own port, the identity named by the trusted proxy's
 * X-Kadeploy-User header, files exported by the client (Base64(path) URLs). A deployment of the
 * tutorial environment succeeds on real virtual nodes and is an ordinary kaploy operation:
 * kanodes3 and kastat3 (the native commands) see it.
 */
let site: Site;
let base: string;
let me: Record<string, string>;
let exportServer: http.Server;
let exportUrl: string;
let engineUrl: string;

async function freePort(): Promise<number> {
  const s = net.createServer();
  await new Promise<void>((r) => s.listen(0, '127.0.0.1', r));
  const { port } = s.address() as AddressInfo;
  await new Promise((r) => s.close(r));
  return port;
}

beforeAll(async () => {
  site = await startSite({ nodes: 2, site: 'kaapi' });
  const port = await freePort();
  // What a site admin appends to site.yaml, then the engine restarted.
  appendFileSync(
    path.join(site.dir, 'site.yaml'),
    `kadeploy_api:\n  enabled: true\n  port: ${port}\n  trusted_proxies: [127.0.0.1]\n`,
  );
  const client = parse(readFileSync(path.join(site.dir, 'client.yaml'), 'utf8')) as {
    servers: Record<string, { url: string }>;
  };
  engineUrl = Object.values(client.servers)[0]?.url as string;
  await restartTestbedEngine(testbedLayout(site.dir), engineUrl, path.join(site.dir, 'tokens', 'kaadmin'));
  base = `http://127.0.0.1:${port}`;
  me = { 'X-Kadeploy-User': os.userInfo().username };
  exportServer = http.createServer((req, res) => {
    const file = Buffer.from(
      (req.url ?? '/').slice(1).replace(/-/g, '+').replace(/_/g, '/'),
      'base64',
    ).toString();
    // Only the one file the test exports, as Kadeploy's client binds only the files it names.
    if (file !== path.join(site.dir, 'keys', 'user.pub')) return void res.writeHead(404).end();
    res.writeHead(200).end(readFileSync(file));
  });
  await new Promise<void>((r) => exportServer.listen(0, '127.0.0.1', r));
  exportUrl = `http://127.0.0.1:${(exportServer.address() as AddressInfo).port}`;
}, 180_000);

afterAll(async () => {
  exportServer?.close();
  await site?.down();
}, 60_000);

async function pollDone(p: string): Promise<Record<string, unknown>> {
  for (let i = 0; i < 1200; i++) {
    const w = (await call(base, 'GET', p, { headers: me })).json() as Record<string, unknown>;
    if (w.done === true) return w;
    await new Promise((r) => setTimeout(r, 200));
  }
  throw new Error(`${p} never done`);
}

describe('the Kadeploy API of a virtual site, as g5k-api calls it', () => {
  it('deploys tiny-x64-base with the client-exported key: done, ok nodes, logs once, stats and kanodes3 agree', async () => {
    const [n1, n2] = site.nodes as [string, string];
    expect((await call(base, 'GET', '/version')).status).toBe(200);
    const start = await call(base, 'POST', '/deployment', {
      headers: me,
      body: {
        nodes: [n1, n2],
        environment: { kind: 'database', user: 'deploy', name: 'tiny-x64-base' },
        ssh_authorized_keys: path.join(site.dir, 'keys', 'user.pub'),
        client: exportUrl,
      },
    });
    expect(start.status).toBe(200);
    const { wid } = start.json() as { wid: string };
    const w = await pollDone(`/deployment/${wid}`);
    expect(w).toMatchObject({
      wid,
      user: os.userInfo().username,
      done: true,
      error: false,
      environment: { user: 'deploy', name: 'tiny-x64-base' },
      nodes: { ok: [n1, n2].sort(), ko: [] },
    });
    const state = (await call(base, 'GET', `/deployment/${wid}/state`, { headers: me })).json() as Record<
      string,
      { state: string }
    >;
    expect([state[n1]?.state, state[n2]?.state]).toEqual(['ok', 'ok']);
    const logs = (await call(base, 'GET', `/deployment/${wid}/logs`, { headers: me })).text;
    expect(logs).toMatch(/\|Performing a Deploy\[SetDeploymentEnvUntrusted\] step\n/);
    expect(logs).toMatch(new RegExp(`\\|Deployment #${wid} done \\(2/2 nodes OK\\)\\n$`));
    expect((await call(base, 'GET', `/deployment/${wid}/logs`, { headers: me })).text).toBe('');
    expect(await runningSystem(site, n1)).toBe('tiny-x64-base');
    // The key the client exported is root's on the node.
    const keys = await site.sh(`ssh -F ${site.dir}/ssh_config ${n1} cat /root/.ssh/authorized_keys`);
    expect(keys.stdout).toContain(readFileSync(path.join(site.dir, 'keys', 'user.pub'), 'utf8').trim());
    // The native commands see an ordinary kaploy deployment.
    const kanodes = await site.run('kanodes3', ['-m', n1]);
    expect(kanodes.stdout).toMatch(
      new RegExp(`${n1.replace(/\./g, '\\.')}\\s+deployed\\s+tiny-x64-base:\\d+\\s.*${wid}`),
    );
    const stats = await call(base, 'GET', `/stats/deploy?wid=${wid}&fields=hostname&fields=success`, {
      headers: me,
    });
    expect(stats.text.trim().split('\n').sort()).toEqual([`${n1},true`, `${n2},true`].sort());
    const kastat = await site.run('kastat3', ['-w', wid, '-F', 'hostname,success']);
    expect(
      kastat.stdout
        .trim()
        .split('\n')
        .filter((l) => l.includes(','))
        .sort(),
    ).toEqual([`${n1},true`, `${n2},true`].sort());
    expect((await call(base, 'DELETE', `/deployment/${wid}`, { headers: me })).json()).toEqual({ wid });
  });

  it('DELETE of a running deployment cancels it: the native API shows it cancelled', async () => {
    const [, n2] = site.nodes as [string, string];
    const start = await call(base, 'POST', '/deployment', {
      headers: me,
      body: { nodes: [n2], environment: { kind: 'database', user: 'deploy', name: 'tiny-x64-base' } },
    });
    const { wid } = start.json() as { wid: string };
    expect((await call(base, 'GET', `/deployment/${wid}`, { headers: me })).json()).toMatchObject({
      done: false,
    });
    // While it runs, /status places the node in its cluster, macro- and micro-step.
    const where = (await call(base, 'GET', `/deployment/${wid}/status`, { headers: me })).json() as Record<
      string,
      Record<string, Record<string, { nodes: Record<string, string[]> }>>
    >;
    const placed = Object.values(where).flatMap((macros) =>
      Object.values(macros).flatMap((micros) =>
        Object.values(micros).flatMap((m) => Object.values(m.nodes).flat()),
      ),
    );
    expect(placed).toEqual([n2]);
    expect((await call(base, 'DELETE', `/deployment/${wid}`, { headers: me })).json()).toEqual({ wid });
    const token = readFileSync(path.join(site.dir, 'tokens', os.userInfo().username), 'utf8').trim();
    let status = 'running';
    for (let i = 0; i < 300 && status === 'running'; i++) {
      await new Promise((r) => setTimeout(r, 100));
      const n = await call(engineUrl, 'GET', `/deployment/${wid}`, {
        headers: { authorization: `Bearer ${token}` },
      });
      status = (n.json() as { status: string }).status;
    }
    expect(status).toBe('cancelled');
    expect((await call(base, 'GET', '/deployment', { headers: me })).json()).toEqual([]);
  });

  it('reboot and the power status workflow on the virtual nodes', async () => {
    const [n1] = site.nodes as [string];
    const r = await call(base, 'POST', '/reboot', { headers: me, body: { nodes: [n1], kind: 'simple' } });
    expect(r.status).toBe(200);
    const rw = (r.json() as { wid: string }).wid;
    expect(await pollDone(`/reboot/${rw}`)).toMatchObject({
      done: true,
      error: false,
      nodes: { ok: [n1], ko: [] },
    });
    // With debug: the per-node lines, consumed on read, and only that node's with /debugs/:node.
    const d = await call(base, 'POST', '/reboot', {
      headers: me,
      body: { nodes: [n1], kind: 'simple', level: 'hard', debug: true },
    });
    const dw = d.json() as { wid: string; resources: { debug?: string } };
    expect(dw.resources.debug).toBe(`/reboot/${dw.wid}/debugs`);
    await pollDone(`/reboot/${dw.wid}`);
    const debugs = (await call(base, 'GET', `/reboot/${dw.wid}/debugs/${n1}`, { headers: me })).text;
    expect(debugs).toMatch(
      new RegExp(`^\\d+\\.\\d{5}\\|  \\[${n1.replace(/\./g, '\\.')}\\] hard reboot\\n`, 'm'),
    );
    expect((await call(base, 'GET', `/reboot/${dw.wid}/debugs`, { headers: me })).text).toBe('');
    const logs = (await call(base, 'GET', `/reboot/${dw.wid}/logs`, { headers: me })).text;
    expect(logs).not.toMatch(/\] hard reboot/);
    const st = await call(base, 'GET', `/power?nodes=${n1}`, { headers: me });
    const pw = (st.json() as { wid: string }).wid;
    expect(await pollDone(`/power/${pw}`)).toMatchObject({ done: true, nodes: { ok: [n1], ko: [] } });
  });

  it('the identity header from an untrusted address is refused', async () => {
    const r = await call(base, 'GET', '/nodes', { headers: me, from: '127.0.0.3' });
    expect([r.status, r.text]).toEqual([
      401,
      'Authentication failed: trying to authenticate from an untrusted source',
    ]);
  });
});
