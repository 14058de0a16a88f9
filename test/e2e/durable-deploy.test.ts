import { existsSync, readFileSync } from 'node:fs';
import os from 'node:os';
import path from 'node:path';
import { setTimeout as sleep } from 'node:timers/promises';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { parse } from 'yaml';
import type { OperationStatus } from '../../src/api/operation-status.js';
import { ApiClient } from '../../src/client/http-client.js';
import { testbedLayout } from '../../src/testbed/index.js';
import { startEngine } from '../../src/testbed/manager/engine-process.js';
import { type Site, startSite } from './helpers/virtual-site.js';

/**
 * Durable workflows on a virtual site: the engine killed with SIGKILL while kadeploy3's deployment
 * broadcasts its image, then started again on the same store. The deployment goes on under its id,
 * from the broadcast, to its end with every node OK, and kadeploy3 (which followed it across the
 * restart) exits 0.
 */
let site: Site;

beforeAll(async () => {
  site = await startSite({ nodes: 3, site: 'e2edurable' });
}, 120_000);
afterAll(async () => {
  await site?.down();
});

const cmdline = (pid: number) => {
  try {
    return readFileSync(`/proc/${pid}/cmdline`, 'utf8');
  } catch {
    return '';
  }
};

describe('an engine killed during a broadcast', () => {
  it('resumes the deployment after its restart: the nodes end OK, kadeploy3 exits 0', async () => {
    const [n1, n2, n3] = site.nodes as [string, string, string];
    // node-1 writes the image slowly, once: the broadcast lasts long enough to be killed inside.
    const fault = await site.run('kaploy', [
      'testbed',
      'fault',
      n1,
      'slow_disk',
      '--when',
      'kaploy-relay',
      '--times',
      '1',
      '--bytes-per-sec',
      '150000',
      '--dir',
      site.dir,
    ]);
    expect(fault.code).toBe(0);
    const widFile = path.join(site.dir, 'wid');
    const ok = path.join(site.dir, 'ok');
    const deploying = site.run('kadeploy3', [
      '-e',
      'tiny-x64-base',
      '-u',
      'deploy',
      '-m',
      n1,
      '-m',
      n2,
      '-m',
      n3,
      '-o',
      ok,
      '--write-workflow-id',
      widFile,
    ]);
    const cfg = parse(readFileSync(path.join(site.dir, 'client.yaml'), 'utf8')) as {
      servers: Record<string, { url: string }>;
    };
    const url = Object.values(cfg.servers)[0]?.url as string;
    const me = os.userInfo().username;
    const client = new ApiClient({
      url,
      token: readFileSync(path.join(site.dir, 'tokens', me), 'utf8').trim(),
    });
    let wid = '';
    try {
      // Wait for the broadcast: every node in send_environment, still there a while later. The
      // journal writes positions every 50 ms, so by then the step before it is recorded for each
      // node (killed sooner, a node may redo an earlier step too: right, but not this test's case).
      const broadcasting = async () => {
        const st = await client.request<OperationStatus>('GET', `/deployment/${wid}`);
        expect(st.status).toBe('running');
        const ns = Object.values(st.nodes);
        return ns.length === 3 && ns.every((n) => n.micro === 'send_environment' && n.state === 'running');
      };
      for (;;) {
        if (!wid && existsSync(widFile)) wid = readFileSync(widFile, 'utf8').trim();
        if (wid && (await broadcasting())) {
          await sleep(400);
          if (await broadcasting()) break;
        }
        await sleep(50);
      }
    } finally {
      await client.close();
    }
    const pid = Number(readFileSync(path.join(site.dir, 'engine.pid'), 'utf8').trim());
    expect(cmdline(pid)).toContain('server');
    process.kill(pid, 'SIGKILL');
    while (cmdline(pid) !== '') await sleep(20);
    // Started again on the same store, as `kaploy testbed up` starts it.
    await startEngine(testbedLayout(site.dir), url, path.join(site.dir, 'tokens', 'kaadmin'));

    const r = await deploying;
    expect(r.stderr).toMatch(
      /^Lost the connection to server \S+, trying again for \d+ s \(server_timeout\)\n/,
    );
    expect(r.stdout).toMatch(
      /engine restarted; resuming from BroadcastEnv\w+-send_environment for 3 nodes\n/,
    );
    expect(r.stdout).toMatch(/The deployment is successful on nodes\n/);
    expect(r.code).toBe(0);
    expect(readFileSync(ok, 'utf8').trim().split('\n').sort()).toEqual([n1, n2, n3].sort());
    for (const n of [n1, n2, n3])
      expect(readFileSync(site.disk(n, 3, 'etc/os-release'), 'utf8')).toMatch(/ID=tiny-x64-base/);
    const st = await site.run('kaploy', ['testbed', 'status', '--dir', site.dir]);
    for (const n of [n1, n2, n3])
      expect(st.stdout).toMatch(new RegExp(`${n.replace(/\./g, '\\.')}\\s+on\\s+installed`));
  }, 240_000);
});
