import { appendFileSync, readFileSync } from 'node:fs';
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
 * end with every node OK, and kareboot3, which followed it across the restart, exits 0. Then, with
 * admission bounded to one operation, two reboots queued behind a running one are killed with the
 * engine too: after the restart they are still queued, same places, and run in their order.
 */
let site: Site;

beforeAll(async () => {
  site = await startSite({ nodes: 3, site: 'e2edurreboot' });
}, 120_000);
afterAll(async () => {
  await site?.down();
});

/** kill -9 of the site's engine, then the engine started again on the same store. */
async function killAndRestart(url: string): Promise<void> {
  const pid = Number(readFileSync(path.join(site.dir, 'engine.pid'), 'utf8').trim());
  expect(cmdline(pid)).toContain('server');
  process.kill(pid, 'SIGKILL');
  while (cmdline(pid) !== '') await sleep(20);
  await startEngine(testbedLayout(site.dir), url, path.join(site.dir, 'tokens', 'kaadmin'));
}

function userClient(): { url: string; client: ApiClient } {
  const cfg = parse(readFileSync(path.join(site.dir, 'client.yaml'), 'utf8')) as {
    servers: Record<string, { url: string }>;
  };
  const url = Object.values(cfg.servers)[0]?.url as string;
  const token = readFileSync(path.join(site.dir, 'tokens', os.userInfo().username), 'utf8').trim();
  return { url, client: new ApiClient({ url, token }) };
}

async function slowBoot(node: string): Promise<void> {
  const fault = await site.run('kaploy', [
    'testbed',
    'fault',
    node,
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
    for (const n of nodes) await slowBoot(n);
    const ok = path.join(site.dir, 'rebooted-ok');
    const rebooting = site.run('kareboot3', ['-r', 'simple', ...nodes.flatMap((n) => ['-m', n]), '-o', ok]);
    const { url, client } = userClient();
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
    await killAndRestart(url);

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

  it('keeps two reboots queued behind a running one across a kill -9: same places, run in order, kareboot3 exits 0', async () => {
    const [n1, n2, n3] = site.nodes as [string, string, string];
    const { url, client } = userClient();
    // One operation at a time (the engine started again with it).
    appendFileSync(path.join(site.dir, 'site.yaml'), '\nadmission:\n  max_operations: 1\n');
    await startEngine(testbedLayout(site.dir), url, path.join(site.dir, 'tokens', 'kaadmin'));
    await slowBoot(n1);
    const widFile = (n: string) => path.join(site.dir, `wid-${n}`);
    const reboot = (n: string) =>
      site.run('kareboot3', ['-r', 'simple', '-m', n, '--write-workflow-id', widFile(n)]);
    const first = reboot(n1);
    const wids: string[] = [];
    const queued: Promise<Awaited<ReturnType<typeof reboot>>>[] = [];
    try {
      const status = async (wid: string) => client.request<OperationStatus>('GET', `/reboot/${wid}`);
      const widOf = async (n: string) => {
        for (;;) {
          try {
            const w = readFileSync(widFile(n), 'utf8').trim();
            if (w) return w;
          } catch {
            // not written yet
          }
          await sleep(50);
        }
      };
      wids.push(await widOf(n1));
      // The first one running (so the next ones queue in the order they are sent), then two more.
      while ((await status(wids[0] as string)).status !== 'running') await sleep(50);
      for (const n of [n2, n3]) {
        queued.push(reboot(n));
        wids.push(await widOf(n));
        while ((await status(wids.at(-1) as string)).status !== 'queued') await sleep(50);
      }
      expect((await status(wids[1] as string)).queuePosition).toBe(1);
      expect((await status(wids[2] as string)).queuePosition).toBe(2);
    } finally {
      await client.close();
    }
    await killAndRestart(url);

    const [r1, r2, r3] = await Promise.all([first, ...queued]);
    for (const r of [r1, r2, r3]) expect(r?.code, `${r?.stdout}\n${r?.stderr}`).toBe(0);
    expect(r2?.stdout).toMatch(/still queued after the engine restarted \(position 1\)/);
    expect(r3?.stdout).toMatch(/still queued after the engine restarted \(position 2\)/);
    // Run in their order, one at a time: each ended before the next left the queue.
    const after = userClient();
    try {
      const ends = [];
      for (const w of wids) {
        const st = await after.client.request<OperationStatus>('GET', `/reboot/${w}`);
        expect(st.status).toBe('done');
        ends.push(st.finishedAt as number);
      }
      expect([...ends].sort((a, b) => a - b)).toEqual(ends);
    } finally {
      await after.client.close();
    }
  }, 240_000);

  it('a node the soft reboot left dark, resumed in wait_reboot, is escalated to hard by the new engine', async () => {
    const n2 = site.nodes[1] as string;
    const f = await site.run('kaploy', [
      'testbed',
      'fault',
      '--dir',
      site.dir,
      n2,
      'no_reboot',
      '--times',
      '1',
    ]);
    expect(f.code, f.stderr).toBe(0);
    const widFile = path.join(site.dir, 'wid-dark');
    const rebooting = site.run('kareboot3', [
      '-m',
      n2,
      '--reboot-classical-timeout',
      '4',
      '-d',
      '--write-workflow-id',
      widFile,
    ]);
    const { url, client } = userClient();
    try {
      for (;;) {
        let wid = '';
        try {
          wid = readFileSync(widFile, 'utf8').trim();
        } catch {
          // not written yet
        }
        if (wid) {
          const st = await client.request<OperationStatus>('GET', `/reboot/${wid}`);
          if (st.nodes[n2]?.micro === 'wait_reboot') break;
        }
        await sleep(20);
      }
    } finally {
      await client.close();
    }
    // Killed well inside the 4 s wait: the stopped engine never escalated.
    await killAndRestart(url);
    const r = await rebooting;
    expect(r.stdout).toMatch(/engine restarted; resuming from Simple-wait_reboot for 1 nodes\n/);
    expect(r.stdout).toContain(`  [${n2}] not back after a soft reboot within 4s, trying a hard reboot\n`);
    expect(r.code, `${r.stdout}\n${r.stderr}`).toBe(0);
  }, 240_000);
});
