import { readFileSync, writeFileSync } from 'node:fs';
import path from 'node:path';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { type Site, startSite } from '../e2e/helpers/virtual-site.js';
import { addDestructiveEnv, runningSystem, statsOf, widOf } from './helpers/nodeops-site.js';

/**
 * kareboot3 and kanodes3 on a virtual site: the real engine, the nodes' BMC-like power API, PXE
 * profiles read by the virtual nodes, the real commands.
 */
let site: Site;
let n1: string;
let n2: string;
let n3: string;

beforeAll(async () => {
  site = await startSite({ nodes: 3, site: 'nodeopsrb' });
  [n1, n2, n3] = site.nodes as [string, string, string];
}, 120_000);
afterAll(async () => {
  await site?.down();
});

const state = async (node: string) => {
  const r = await site.run('kanodes3', ['-m', node]);
  return r.stdout.trim().split('\n')[1]?.split(/\s+/) ?? [];
};

describe('kareboot3 on a virtual site', () => {
  it('simple: power-cycles the node back onto what it runs, one stats row, kanodes3 shows rebooted', async () => {
    const ok = path.join(site.dir, 'simple-ok');
    const r = await site.run('kareboot3', ['-m', n1, '-r', 'simple', '-o', ok]);
    expect(r.stderr).toBe('');
    expect(r.code).toBe(0);
    expect(r.stdout).toContain('  reboot\n');
    expect(r.stdout).toContain(`   * Performing a soft reboot on ${n1}\n`);
    expect(r.stdout).toContain('  wait_reboot\n');
    expect(r.stdout).toMatch(/\nThe reboot is successful on nodes\n/);
    expect(readFileSync(ok, 'utf8')).toBe(`${n1}\n`);
    expect(await runningSystem(site, n1)).toBe('prod-env');
    const wid = widOf(r.stdout);
    expect(await statsOf(site, wid, n1)).toEqual({
      hostname: n1,
      operation: 'reboot',
      step1: 'Simple',
      step2: '',
      timeout_step1: '30',
      retry_step1: '0',
      env: '',
      success: 'true',
      error: '',
    });
    expect(await state(n1)).toEqual([n1, 'rebooted', '-', '-', 'root', wid]);
  });

  it('accepts the 3.1 name simple_reboot and every level (hard, very_hard)', async () => {
    for (const level of ['hard', 'very_hard']) {
      const r = await site.run('kareboot3', ['-m', n3, '-r', 'simple_reboot', '-l', level, '-d']);
      expect(r.code).toBe(0);
      expect(r.stdout).toContain(`   * Performing a ${level} reboot on ${n3}\n`);
      expect(r.stdout).toContain(`  [${n3}] ${level} reboot\n`);
      expect(r.stdout).not.toContain('soft reboot');
    }
  });

  it('deploy_env -k: boots the deployment environment and installs the key there', async () => {
    const key = path.join(site.dir, 'keys', 'user.pub');
    const r = await site.run('kareboot3', ['-m', n1, '-r', 'deploy_env', '-k', key]);
    expect(r.code).toBe(0);
    expect(r.stdout).toMatch(
      / {2}switch_pxe\n[\s\S]* {2}reboot\n[\s\S]* {2}wait_reboot\n[\s\S]* {2}send_key_in_deploy_env\n/,
    );
    const st = await site.run('kaploy', ['testbed', 'status', '--dir', site.dir]);
    expect(st.stdout).toMatch(new RegExp(`${n1.replace(/\./g, '\\.')}\\s+on\\s+deploy_env`));
    const keys = await site.sh(`ssh -F ${site.dir}/ssh_config ${n1} cat /root/.ssh/authorized_keys`);
    expect(keys.stdout).toContain(readFileSync(key, 'utf8').trim());
    expect((await state(n1))[1]).toBe('deploy_env');
  });

  it('recorded_env and env_recorded: boots the environment installed on the given partition', async () => {
    const d = await site.run('kadeploy3', [
      '-e',
      'tiny-x64-base',
      '-u',
      'deploy',
      '-m',
      n2,
      '-V',
      '0',
      '-k',
      path.join(site.dir, 'keys', 'user.pub'),
    ]);
    expect(d.code).toBe(0);
    expect(await runningSystem(site, n2)).toBe('tiny-x64-base');
    const prod = await site.run('kareboot3', [
      '-m',
      n2,
      '-r',
      'recorded_env',
      '-e',
      'prod-env',
      '-u',
      'deploy',
      '-p',
      '2',
    ]);
    expect(prod.code).toBe(0);
    expect(await runningSystem(site, n2)).toBe('prod-env');
    expect(await state(n2)).toEqual([n2, 'prod_env', 'prod-env:1', 'deploy', 'root', widOf(prod.stdout)]);
    const back = await site.run('kareboot3', [
      '-m',
      n2,
      '-r',
      'env_recorded',
      '-e',
      'tiny-x64-base',
      '-u',
      'deploy',
      '--env-version',
      '1',
      '-p',
      '3',
    ]);
    expect(back.code).toBe(0);
    expect(await runningSystem(site, n2)).toBe('tiny-x64-base');
    expect((await state(n2)).slice(1, 4)).toEqual(['recorded_env', 'tiny-x64-base:1', 'deploy']);
    const row = await statsOf(site, widOf(back.stdout), n2);
    expect([row.step1, row.env, row.success]).toEqual(['RecordedEnv', 'tiny-x64-base:1', 'true']);
  });

  it('set_pxe -w: the engine writes the checked profile and the node boots it', async () => {
    const prof = path.join(site.dir, 'prod.pxe');
    writeFileSync(prof, 'DEFAULT prod\nLABEL prod\n  COM32 chain.c32\n  APPEND hd0 2\n');
    const r = await site.run('kareboot3', ['-m', n2, '-r', 'set_pxe', '-w', prof]);
    expect(r.code).toBe(0);
    expect(r.stdout).toMatch(/ {2}set_pxe\n/);
    expect(await runningSystem(site, n2)).toBe('prod-env');
    expect((await statsOf(site, widOf(r.stdout), n2)).step1).toBe('SetPXE');
  });

  it('escalates to hard when the node ignores the soft reboot; retry and level in the stats row', async () => {
    const f = await site.run('kaploy', [
      'testbed',
      'fault',
      '--dir',
      site.dir,
      n3,
      'no_reboot',
      '--times',
      '1',
    ]);
    expect(f.code).toBe(0);
    const r = await site.run('kareboot3', ['-m', n3, '--reboot-classical-timeout', '2', '-d']);
    expect(r.code).toBe(0);
    expect(r.stdout).toContain(`   * Performing a soft reboot on ${n3}\n`);
    expect(r.stdout).toContain(`  [${n3}] not back after a soft reboot within 2s, trying a hard reboot\n`);
    expect(r.stdout).toContain(`   * Performing a hard reboot on ${n3}\n`);
    const row = await statsOf(site, widOf(r.stdout), n3);
    expect([row.timeout_step1, row.retry_step1, row.success]).toEqual(['2', '1', 'true']);
  });

  it('a node that never comes back is KO with its step and reason; the others are OK (exit 1, -n file)', async () => {
    const f = await site.run('kaploy', [
      'testbed',
      'fault',
      '--dir',
      site.dir,
      n3,
      'no_reboot',
      '--times',
      '3',
    ]);
    expect(f.code).toBe(0);
    const ko = path.join(site.dir, 'ko-escalation');
    const r = await site.run('kareboot3', ['-m', n1, '-m', n3, '--reboot-classical-timeout', '1', '-n', ko]);
    expect(r.code).toBe(1);
    expect(r.stdout).toContain(`The reboot is successful on nodes\n${n1}\n`);
    expect(r.stdout).toContain(
      `The reboot failed on nodes\n${n3} (Simple-wait_reboot: not back after a very_hard reboot within 1s)\n`,
    );
    expect(readFileSync(ko, 'utf8')).toBe(`${n3}\n`);
    const row = await statsOf(site, widOf(r.stdout), n3);
    expect([row.retry_step1, row.success, row.error]).toEqual([
      '2',
      'false',
      'Simple-wait_reboot: not back after a very_hard reboot within 1s',
    ]);
    expect((await state(n3))[1]).toBe('reboot_failed');
  });

  it('-c refuses with the destructive error when the last deployed environment is destructive; nothing touched', async () => {
    await addDestructiveEnv(site, 'wipe-it');
    const d = await site.run('kadeploy3', [
      '-e',
      'wipe-it',
      '-m',
      n3,
      '-V',
      '0',
      '-k',
      path.join(site.dir, 'keys', 'user.pub'),
    ]);
    expect(d.code).toBe(0);
    const before = await state(n3);
    const r = await site.run('kareboot3', [
      '-m',
      n3,
      '-m',
      n1,
      '-r',
      'recorded_env',
      '-e',
      'prod-env',
      '-u',
      'deploy',
      '-p',
      '2',
      '-c',
    ]);
    expect(r.code).toBe(4);
    expect(r.stderr).toMatch(
      /the last environment deployed on node-3\.nodeopsrb \(wipe-it:1\) is destructive.*\[KAPLOY_DESTRUCTIVE\]/,
    );
    expect(await state(n3)).toEqual(before);
    expect(await runningSystem(site, n3)).toBe('tiny-x64-base');
    // Without -c the reboot goes ahead.
    const go = await site.run('kareboot3', [
      '-m',
      n3,
      '-r',
      'recorded_env',
      '-e',
      'prod-env',
      '-u',
      'deploy',
      '-p',
      '2',
    ]);
    expect(go.code).toBe(0);
    expect(await runningSystem(site, n3)).toBe('prod-env');
  });

  it('kanodes3 shows the running reboot and each node step while it runs, then the final states', async () => {
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
    // The reboot waits for n1 until its timeout: kanodes3 sees it running meanwhile.
    const running = site.run('kareboot3', ['-m', n1, '--reboot-classical-timeout', '4']);
    let seen = '';
    for (let i = 0; i < 100 && !/wait_reboot/.test(seen); i++) {
      seen = (await site.run('kanodes3', ['-r'])).stdout;
    }
    expect(seen).toMatch(
      /^R-[0-9a-f-]{36} {2}reboot {2}root {2}1 node\(s\)\n {2}node-1\.nodeopsrb: running \(Simple-wait_reboot\)\n/,
    );
    const all = await site.run('kanodes3', ['-a']);
    expect(all.stdout).toContain('  reboot  root  1 node(s)');
    expect((await state(n1))[1]).toBe('rebooting');
    const r = await running;
    expect(r.code).toBe(0);
    expect((await site.run('kanodes3', ['-r'])).stdout).toBe('No running operation\n');
    const after = await site.run('kanodes3', ['-w', widOf(r.stdout)]);
    expect(after.stdout).toBe(`${widOf(r.stdout)}  reboot  root  done\n  ${n1}: ok (Simple-wait_reboot)\n`);
    expect((await state(n1))[1]).toBe('rebooted');
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
  });

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
    const u = await site.run('kareboot3', ['-m', n1, '-m', 'node-99.nodeopsrb']);
    expect(u.code).toBe(3);
    expect(u.stderr).toMatch(/unknown node\(s\) on site nodeopsrb: node-99\.nodeopsrb \[KAPLOY_NODE_LIST\]/);
    const a = await site.run('kareboot3', ['-m', n1], { user: 'alice' });
    expect(a.code).toBe(4);
    expect(a.stderr).toMatch(
      /You do not have the right to reboot the node\(s\) node-1\.nodeopsrb; nothing was done \[KAPLOY_RIGHTS\]/,
    );
    const bad = await site.run('kareboot3', ['-m', 'node;reboot']);
    expect(bad.code).toBe(3);
  });
});
