import { readFileSync, writeFileSync } from 'node:fs';
import path from 'node:path';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { type Site, startSite } from '../../e2e/helpers/virtual-site.js';
import { spawnCli, statsOf, widOf } from './helpers/nodeops-site.js';

/**
 * kareboot3 when nodes misbehave or input is bad: escalation, KO nodes, cancellation (kanodes3
 * meanwhile), refusals that touch nothing. A site of its own so each file stays short.
 */
let site: Site;
let n1: string;
let n2: string;

beforeAll(async () => {
  site = await startSite({ nodes: 2, site: 'nodeopsrf' });
  [n1, n2] = site.nodes as [string, string];
}, 120_000);
afterAll(async () => {
  await site?.down();
}, 60_000);

const state = async (node: string) => {
  const r = await site.run('kanodes3', ['-m', node]);
  return r.stdout.trim().split('\n')[1]?.split(/\s+/) ?? [];
};

describe('kareboot3 when nodes misbehave', () => {
  it('escalates to hard when the node ignores the soft reboot; retry and level in the stats row', async () => {
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
    expect(f.code).toBe(0);
    const r = await site.run('kareboot3', ['-m', n2, '--reboot-classical-timeout', '2', '-d']);
    expect(r.code).toBe(0);
    expect(r.stdout).toContain(`   * Performing a soft reboot on ${n2}\n`);
    expect(r.stdout).toContain(`  [${n2}] not back after a soft reboot within 2s, trying a hard reboot\n`);
    expect(r.stdout).toContain(`   * Performing a hard reboot on ${n2}\n`);
    const row = await statsOf(site, widOf(r.stdout), n2);
    expect([row.timeout_step1, row.retry_step1, row.success]).toEqual(['2', '1', 'true']);
  });

  it('a node that never comes back is KO with its step and reason; the others are OK (exit 1, -n file)', async () => {
    const f = await site.run('kaploy', [
      'testbed',
      'fault',
      '--dir',
      site.dir,
      n2,
      'no_reboot',
      '--times',
      '3',
    ]);
    expect(f.code).toBe(0);
    const ko = path.join(site.dir, 'ko-escalation');
    const r = await site.run('kareboot3', ['-m', n1, '-m', n2, '--reboot-classical-timeout', '1', '-n', ko]);
    expect(r.code).toBe(1);
    expect(r.stdout).toContain(`The reboot is successful on nodes\n${n1}\n`);
    expect(r.stdout).toContain(
      `The reboot failed on nodes\n${n2} (Simple-wait_reboot: not back after a very_hard reboot within 1s)\n`,
    );
    expect(readFileSync(ko, 'utf8')).toBe(`${n2}\n`);
    const row = await statsOf(site, widOf(r.stdout), n2);
    expect([row.retry_step1, row.success, row.error]).toEqual([
      '2',
      'false',
      'Simple-wait_reboot: not back after a very_hard reboot within 1s',
    ]);
    expect((await state(n2))[1]).toBe('reboot_failed');
  });

  it('kanodes3 shows the running reboot and each node step while it runs, then the final states', async () => {
    // n1 ignores the reboot and the timeout is long: the reboot runs until the test interrupts it.
    const f = await site.run('kaploy', [
      'testbed',
      'fault',
      '--dir',
      site.dir,
      n1,
      'no_reboot',
      '--times',
      '1',
    ]);
    expect(f.code).toBe(0);
    const running = spawnCli(site, 'kareboot3', ['-m', n1, '--reboot-classical-timeout', '600']);
    await running.waitFor(/ {2}wait_reboot\n/, 'wait_reboot');
    const wid = widOf(running.output());
    const seen = (await site.run('kanodes3', ['-r'])).stdout;
    expect(seen).toBe(`${wid}  reboot  root  1 node(s)\n  ${n1}: running (Simple-wait_reboot)\n`);
    expect((await site.run('kanodes3', ['-a'])).stdout).toBe(seen);
    expect((await site.run('kanodes3', ['-d'])).stdout).toBe('No running operation\n');
    expect(await state(n1)).toEqual([n1, 'rebooting', '-', '-', 'root', wid]);
    // Ctrl-C: kareboot3 cancels the reboot on the server; the node ends aborted, with a stats row.
    running.child.kill('SIGINT');
    expect(await running.exit).toBe(130);
    expect(running.output()).toContain(`The reboot failed on nodes\n${n1} (Simple-wait_reboot: cancelled)\n`);
    expect((await site.run('kanodes3', ['-r'])).stdout).toBe('No running operation\n');
    expect((await site.run('kanodes3', ['-w', wid])).stdout).toBe(
      `${wid}  reboot  root  cancelled\n  ${n1}: cancelled (Simple-wait_reboot): cancelled\n`,
    );
    expect((await state(n1))[1]).toBe('aborted');
    expect((await statsOf(site, wid, n1)).success).toBe('false');
  });
});

describe('kareboot3 bad input: clear errors, nothing touched', () => {
  // Every refusal below must leave every node as it was (states, operations, what they run).
  let before = '';
  beforeAll(async () => {
    before = (await site.run('kanodes3', [])).stdout;
  });
  afterAll(async () => {
    expect((await site.run('kanodes3', [])).stdout).toBe(before);
  }, 30_000);

  it('unknown kind or level, missing or misplaced options, a bad timeout, an unknown environment', async () => {
    const cases: [string[], number, RegExp][] = [
      [['-r', 'warm_reboot'], 3, /unknown reboot kind 'warm_reboot'/],
      [['-l', 'gentle'], 3, /unknown level 'gentle': expected one of soft, hard, very_hard/],
      [['-r', 'recorded_env', '-p', '2'], 3, /the recorded_env reboot needs an environment \(-e NAME\)/],
      [
        ['-r', 'recorded_env', '-e', 'prod-env'],
        3,
        /the recorded_env reboot needs the partition it is installed on \(-p N\)/,
      ],
      [['-r', 'set_pxe'], 3, /the set_pxe reboot needs a PXE profile \(-w FILE\)/],
      [['-r', 'simple', '-e', 'prod-env'], 3, /-e\/--env-name is only for the recorded_env reboot/],
      [['--reboot-classical-timeout', 'rm -rf /'], 3, /--reboot-classical-timeout 'rm -rf \/'/],
      [['-r', 'recorded_env', '-e', 'no-such-env', '-p', '3'], 4, /no-such-env/],
    ];
    for (const [args, code, message] of cases) {
      const r = await site.run('kareboot3', ['-m', n1, ...args]);
      expect([args, r.code, r.stdout]).toEqual([args, code, '']);
      expect(r.stderr).toMatch(message);
    }
  });

  it('refuses a PXE profile that reaches outside the TFTP root or includes other files', async () => {
    for (const [text, msg] of [
      [
        'DEFAULT x\nLABEL x\n KERNEL ../../etc/shadow\n APPEND initrd=x\n',
        /must be a path relative to the TFTP root/,
      ],
      ['INCLUDE pxelinux.cfg/default\n', /unsupported keyword 'INCLUDE'/],
      ['DEFAULT x\nLABEL x\n KERNEL k\n APPEND initrd=i $(reboot)\n', /unsupported characters/],
      ['# nothing\n', /boots nothing/],
    ] as const) {
      const f = path.join(site.dir, 'bad.pxe');
      writeFileSync(f, text);
      const r = await site.run('kareboot3', ['-m', n1, '-r', 'set_pxe', '-w', f]);
      expect(r.code).toBe(3);
      expect(r.stderr).toMatch(msg);
    }
  });

  it('unknown nodes and nodes without rights are refused before anything runs', async () => {
    const u = await site.run('kareboot3', ['-m', n1, '-m', 'node-99.nodeopsrf']);
    expect(u.code).toBe(3);
    expect(u.stderr).toMatch(/unknown node\(s\) on site nodeopsrf: node-99\.nodeopsrf \[KAPLOY_NODE_LIST\]/);
    const a = await site.run('kareboot3', ['-m', n1], { user: 'alice' });
    expect(a.code).toBe(4);
    expect(a.stderr).toMatch(
      /You do not have the right to reboot the node\(s\) node-1\.nodeopsrf; nothing was done \[KAPLOY_RIGHTS\]/,
    );
    const bad = await site.run('kareboot3', ['-m', 'node;reboot']);
    expect(bad.code).toBe(3);
  });
});
