import { readFileSync } from 'node:fs';
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
 * Durable reboots on a virtual site: the engine killed with SIGKILL while kareboot3's reboot waits
 * for its nodes to boot (each boots slowly, once), then started again on the same store. The reboot
 * goes on under its id from wait_reboot (the reboot each node completed is not sent again), to its
 * end with every node OK, and kareboot3, which followed it across the restart, exits 0.
 */
let site: Site;

beforeAll(async () => {
  site = await startSite({ nodes: 3, site: 'e2edurreboot' });
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

describe('an engine killed while a reboot waits for its nodes', () => {
  it('resumes the reboot after its restart from wait_reboot: the nodes end OK, kareboot3 exits 0', async () => {
    const nodes = site.nodes.slice(0, 3);
    for (const n of nodes) {
      const fault = await site.run('kaploy', [
        'testbed',
        'fault',
        n,
        'slow_boot',
        '--when',
        'boot',
        '--times',
        '1',
        '--extra-ms',
        '6000',
        '--dir',
        site.dir,
      ]);
      expect(fault.code, fault.stderr).toBe(0);
    }
    const ok = path.join(site.dir, 'rebooted-ok');
    const rebooting = site.run('kareboot3', ['-r', 'simple', ...nodes.flatMap((n) => ['-m', n]), '-o', ok]);
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
      // Every node past its reboot, waiting for its boot: the reboot step's end is written at once.
      for (;;) {
        const ops = await client.request<OperationStatus[]>('GET', '/reboot');
        const op = ops.find((o) => o.status === 'running');
        if (op) {
          wid = op.wid;
          const ns = Object.values(op.nodes);
          if (ns.length === 3 && ns.every((n) => n.micro === 'wait_reboot' && n.state === 'running')) break;
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
    await startEngine(testbedLayout(site.dir), url, path.join(site.dir, 'tokens', 'kaadmin'));

    const r = await rebooting;
    expect(r.stderr).toMatch(
      /^Lost the connection to server \S+, trying again for \d+ s \(server_timeout\)\n/,
    );
    expect(r.stdout).toMatch(/engine restarted; resuming from Simple-wait_reboot for 3 nodes\n/);
    expect(r.code, `${r.stdout}\n${r.stderr}`).toBe(0);
    expect(readFileSync(ok, 'utf8').trim().split('\n').sort()).toEqual([...nodes].sort());
    const st = await site.run('kanodes3', ['-s', ...nodes.flatMap((n) => ['-m', n])]);
    expect(st.code, st.stderr).toBe(0);
    for (const n of nodes) expect(st.stdout).toMatch(new RegExp(`${n.replace(/\./g, '\\.')}\\W+rebooted`));
    expect(wid).toMatch(/^R-/);
  }, 240_000);
});
