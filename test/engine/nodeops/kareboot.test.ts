import { readFileSync, writeFileSync } from 'node:fs';
import path from 'node:path';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { type Site, startSite } from '../../e2e/helpers/virtual-site.js';
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
}, 60_000);

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

  it('-c refuses on a node whose last environment is destructive; recorded_env and env_recorded boot a partition', async () => {
    await addDestructiveEnv(site, 'wipe-it');
    const key = path.join(site.dir, 'keys', 'user.pub');
    const d = await site.run('kadeploy3', ['-e', 'wipe-it', '-m', n2, '-V', '0', '-k', key]);
    expect(d.code).toBe(0);
    expect(await runningSystem(site, n2)).toBe('tiny-x64-base');
    const before = await state(n2);
    const prodArgs = ['-r', 'recorded_env', '-e', 'prod-env', '-u', 'deploy', '-p', '2'];
    const refused = await site.run('kareboot3', ['-m', n2, '-m', n1, ...prodArgs, '-c']);
    expect(refused.code).toBe(4);
    expect(refused.stderr).toMatch(
      /the last environment deployed on node-2\.nodeopsrb \(wipe-it:1\) is destructive.*\[KAPLOY_DESTRUCTIVE\]/,
    );
    expect(await state(n2)).toEqual(before);
    expect(await runningSystem(site, n2)).toBe('tiny-x64-base');
    // Without -c the reboot goes ahead: production from partition 2, then the user's system from 3.
    const prod = await site.run('kareboot3', ['-m', n2, ...prodArgs]);
    expect(prod.code).toBe(0);
    expect(await runningSystem(site, n2)).toBe('prod-env');
    expect(await state(n2)).toEqual([n2, 'prod_env', 'prod-env:1', 'deploy', 'root', widOf(prod.stdout)]);
    const back = await site.run('kareboot3', [
      '-m',
      n2,
      '-r',
      'env_recorded',
      '-e',
      'wipe-it',
      '--env-version',
      '1',
      '-p',
      '3',
    ]);
    expect(back.code).toBe(0);
    expect(await runningSystem(site, n2)).toBe('tiny-x64-base');
    expect((await state(n2)).slice(1, 4)).toEqual(['recorded_env', 'wipe-it:1', 'root']);
    const row = await statsOf(site, widOf(back.stdout), n2);
    expect([row.step1, row.env, row.success]).toEqual(['RecordedEnv', 'wipe-it:1', 'true']);
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
});
