import { readFileSync, statSync } from 'node:fs';
import path from 'node:path';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { parse } from 'yaml';
import { type Site, startSite } from './helpers/virtual-site.js';

/**
 * The engine's /metrics scraped during and after a deployment on a virtual site whose outcomes
 * are known: one node lost by an injected power loss during the broadcast (KO, no retry), one
 * node that ignores its first reboot (a timeout, one retry, then OK), one node OK.
 */
let site: Site;
let engineUrl: string;
let adminToken: string;

beforeAll(async () => {
  site = await startSite({ nodes: 3, site: 'e2emetrics' });
  const client = parse(readFileSync(path.join(site.dir, 'client.yaml'), 'utf8')) as {
    servers: Record<string, { url: string }>;
  };
  engineUrl = Object.values(client.servers)[0]?.url as string;
  adminToken = readFileSync(path.join(site.dir, 'tokens', 'kaadmin'), 'utf8').trim();
}, 120_000);
afterAll(async () => {
  await site?.down();
});

const scrape = async (): Promise<string> => {
  const r = await fetch(`${engineUrl}/metrics`, { headers: { authorization: `Bearer ${adminToken}` } });
  expect(r.status).toBe(200);
  return r.text();
};
/** The value of one series, as a number (undefined when absent). */
const value = (text: string, series: string): number | undefined => {
  const line = text.split('\n').find((l) => l.startsWith(`${series} `));
  return line === undefined ? undefined : Number(line.slice(series.length + 1));
};

const CLUSTER = 'e2emetrics-c1';
const STEPS =
  'SetDeploymentEnv|SetDeploymentEnvUntrusted:1:5&BroadcastEnv|BroadcastEnvKascade:0:60&BootNewEnv|BootNewEnvClassical:0:20';

describe('GET /metrics during and after a deployment on the virtual site', () => {
  it('counts exactly: 1 operation partial, 2 OK nodes, 1 KO in BroadcastEnv (ssh), 1 retry and 1 timeout', async () => {
    const [n1, n2, n3] = site.nodes as [string, string, string];
    const fault = (node: string, ...args: string[]) =>
      site.run('kaploy', ['testbed', 'fault', '--dir', site.dir, node, ...args]);
    // n2 loses power when its broadcast relay starts: its SSH connection is lost, a KO.
    expect((await fault(n2, 'power_loss', '--when', 'kaploy-relay', '--times', '1')).code).toBe(0);
    // n3 ignores its first reboot: the 5 s SetDeploymentEnv instance times out and is retried.
    expect((await fault(n3, 'no_reboot', '--when', 'reboot', '--times', '1')).code).toBe(0);
    // The description names the image's file and checksum: `# md5 <md5> <path>`.
    const desc = (await site.run('kaenv3', ['-p', 'tiny-x64-base', '-u', 'deploy'])).stdout;
    const image = /^# md5 [0-9a-f]{32} (\S+)$/m.exec(desc)?.[1];
    expect(image, desc).toBeDefined();
    const imageBytes = statSync(image as string).size;

    const run = site.run(
      'kadeploy3',
      ['-e', 'tiny-x64-base', '-u', 'deploy', '-f', '-', '--force-steps', STEPS],
      {
        input: `${n1}\n${n2}\n${n3}\n`,
      },
    );
    // During: n3 waits out its 5 s timeout, so the operation is seen running.
    let during = '';
    for (let i = 0; i < 100; i++) {
      during = await scrape();
      if (value(during, 'kaploy_operations{kind="deploy",phase="running"}') === 1) break;
      await new Promise((r) => setTimeout(r, 100));
    }
    expect(value(during, 'kaploy_operations{kind="deploy",phase="running"}')).toBe(1);
    expect(value(during, 'kaploy_operation_nodes_running{kind="deploy"}')).toBe(3);
    expect(value(during, 'kaploy_operations_started_total{kind="deploy"}')).toBe(1);
    expect(value(during, 'kaploy_operations_ended_total{kind="deploy",outcome="partial"}')).toBeUndefined();
    expect(value(during, 'kaploy_nodes{state="deploying"}')).toBe(3);

    const r = await run;
    expect(r.code).toBe(1);
    expect(r.stdout).toContain(`${n2} (BroadcastEnvKascade-send_environment: SSH connection lost)`);
    // The broadcast's bytes and rate are in the user's log, at the default verbosity.
    expect(r.stdout).toMatch(
      /^ {3}\* Broadcast \(kascade\): [\d.]+ [KMG]?B sent, [\d.]+ [KMG]?B\/s \(image [\d.]+ [KMG]?B\)$/m,
    );

    const after = await scrape();
    const exact: [string, number][] = [
      ['kaploy_operations_started_total{kind="deploy"}', 1],
      ['kaploy_operations_ended_total{kind="deploy",outcome="partial"}', 1],
      ['kaploy_operations{kind="deploy",phase="running"}', 0],
      ['kaploy_operations{kind="deploy",phase="preparing"}', 0],
      ['kaploy_operation_nodes_running{kind="deploy"}', 0],
      [
        `kaploy_node_outcomes_total{kind="deploy",cluster="${CLUSTER}",step="none",status="ok",reason="none"}`,
        2,
      ],
      [
        `kaploy_node_outcomes_total{kind="deploy",cluster="${CLUSTER}",step="BroadcastEnv",status="ko",reason="ssh"}`,
        1,
      ],
      [
        `kaploy_macro_step_retries_total{cluster="${CLUSTER}",macro="SetDeploymentEnv",impl="SetDeploymentEnvUntrusted"}`,
        1,
      ],
      [
        `kaploy_macro_step_timeouts_total{cluster="${CLUSTER}",macro="SetDeploymentEnv",impl="SetDeploymentEnvUntrusted"}`,
        1,
      ],
      // Broadcast and boot each ended OK for two groups: n1 (n2 failed beside it), then n3 after its retry.
      [
        `kaploy_macro_step_duration_seconds_count{cluster="${CLUSTER}",macro="BroadcastEnv",impl="BroadcastEnvKascade"}`,
        2,
      ],
      [
        `kaploy_macro_step_duration_seconds_bucket{le="60",cluster="${CLUSTER}",macro="BroadcastEnv",impl="BroadcastEnvKascade"}`,
        2,
      ],
      [
        `kaploy_macro_step_duration_seconds_count{cluster="${CLUSTER}",macro="BootNewEnv",impl="BootNewEnvClassical"}`,
        2,
      ],
      [
        `kaploy_macro_step_duration_seconds_bucket{le="60",cluster="${CLUSTER}",macro="BootNewEnv",impl="BootNewEnvClassical"}`,
        2,
      ],
      ['kaploy_nodes{state="deployed"}', 2],
      ['kaploy_nodes{state="deploy_failed"}', 1],
    ];
    expect(exact.map(([s]) => [s, value(after, s)])).toEqual(exact);
    // A state no node is in any more is gone, not kept at its last count.
    expect(value(after, 'kaploy_nodes{state="deploying"}')).toBeUndefined();
    // No other outcome was counted.
    expect(after.match(/^kaploy_node_outcomes_total\{/gm)).toHaveLength(2);
    expect(after.match(/^kaploy_operations_ended_total\{/gm)).toHaveLength(1);
    // n3's retried instance ran alone: the instance that timed out is not a duration of an OK one.
    expect(
      value(
        after,
        `kaploy_macro_step_duration_seconds_sum{cluster="${CLUSTER}",macro="SetDeploymentEnv",impl="SetDeploymentEnvUntrusted"}`,
      ),
    ).toBeLessThan(5 * 3);
    // The engine fed each kascade round's first relay the whole image (twice at least: n1's group, n3).
    const sent = value(after, 'kaploy_image_broadcast_bytes_total{method="kascade"}') as number;
    expect(sent).toBeGreaterThanOrEqual(2 * imageBytes);
    expect(sent % imageBytes).toBe(0);
    // Labels are bounded: no node name, workflow id or user in any series.
    expect(after).not.toMatch(/node-\d\.e2emetrics|D-[0-9a-f]{8}-|kaadmin/);
  }, 180_000);

  it('reboots and power operations feed the step histograms too: one observation per cluster and step', async () => {
    const [n1, n2] = site.nodes as [string, string, string];
    const before = await scrape();
    const count = (text: string, family: 'macro' | 'micro', labels: string) =>
      value(text, `kaploy_${family}_step_duration_seconds_count{cluster="${CLUSTER}",${labels}}`) ?? 0;
    // Two nodes rebooted together: one observation per micro-step and one for the step, not two.
    const reboot = await site.run('kareboot3', ['-r', 'simple', '-m', n1, '-m', n2]);
    expect(reboot.code, reboot.stderr).toBe(0);
    const status = await site.run('kapower3', ['--status', '-m', n1, '-m', n2]);
    expect(status.code, status.stderr).toBe(0);
    const after = await scrape();
    const delta = (family: 'macro' | 'micro', labels: string) =>
      count(after, family, labels) - count(before, family, labels);
    expect({
      reboot: delta('micro', 'impl="Simple",micro="reboot"'),
      waitReboot: delta('micro', 'impl="Simple",micro="wait_reboot"'),
      rebootStep: delta('macro', 'macro="Reboot",impl="Simple"'),
      powerStatus: delta('micro', 'impl="Status",micro="power_status"'),
      powerStep: delta('macro', 'macro="Power",impl="Status"'),
    }).toEqual({ reboot: 1, waitReboot: 1, rebootStep: 1, powerStatus: 1, powerStep: 1 });
    expect(after).not.toMatch(/node-\d\.e2emetrics|[RP]-[0-9a-f]{8}-|kaadmin/);
  }, 120_000);
});
