import { mkdirSync, readFileSync, rmSync, writeFileSync } from 'node:fs';
import { connect as tcpConnect } from 'node:net';
import { join } from 'node:path';
import { afterEach, beforeEach, describe, expect, it } from 'vitest';
import { ipHex, renderProfile } from '../../../src/formats/pxe-profile.js';
import {
  connect,
  DEPLOY_KERNEL,
  exec,
  makeSite,
  nodeOptions,
  type Site,
  VirtualNode,
  waitState,
} from './fixtures.js';

const tcpOpen = (host: string, port: number) =>
  new Promise<boolean>((resolve) => {
    const s = tcpConnect({ host, port });
    s.once('connect', () => {
      s.destroy();
      resolve(true);
    });
    s.once('error', () => resolve(false));
  });

describe('virtual node boot cycle (PXE profiles)', () => {
  let site: Site;
  let nodes: VirtualNode[] = [];
  beforeEach(() => {
    site = makeSite();
    nodes = [];
  });
  afterEach(async () => {
    for (const n of nodes) await n.stop();
    site.cleanup();
  });
  const start = async (name: string) => {
    const o = nodeOptions(site, name);
    const node = new VirtualNode(o);
    nodes.push(node);
    await node.start();
    return { node, o };
  };

  it('boots production without any profile, with the engine key authorised', async () => {
    const { node, o } = await start('node-1.test');
    const s = await waitState(node, 'production');
    expect(s.bootedPartition).toBe(2);
    expect(s.power).toBe('on');
    expect(await tcpOpen(o.address, o.markerPort)).toBe(false);
    const c = await connect(o.address, o.sshPort, site.keys.enginePrivate, site.keys.hostPublic);
    const r = await exec(c, 'cat /etc/hostname; cat /boot/grub/grub.cfg');
    c.end();
    expect(r.code).toBe(0);
    expect(r.stdout).toContain('prod\n');
    expect(r.stdout).toContain('linux /boot/vmlinuz root=/dev/sda2');
    const state = JSON.parse(readFileSync(join(o.dir, 'disk/state.json'), 'utf8'));
    expect(state.bootPartition).toBe(2);
    expect(state.partitions.map((p: { number: number; fs: string }) => [p.number, p.fs])).toEqual([
      [1, 'swap'],
      [2, 'ext4'],
      [3, 'none'],
      [4, 'none'],
      [5, 'ext4'],
    ]);
  });

  it('boots the deployment environment from its profile (ip hex), with the marker port open', async () => {
    const { node, o } = await start('node-2.test');
    await waitState(node, 'production');
    writeFileSync(
      join(site.bootDir, ipHex(o.address)),
      renderProfile({
        kind: 'deploy_env',
        kernel: DEPLOY_KERNEL,
        initrd: 'initrd.img',
        params: 'console=ttyS0',
      }),
    );
    await node.reboot('soft');
    expect(node.status().state).toBe('booting');
    const s = await waitState(node, 'deploy_env');
    expect(s.bootCount).toBe(2);
    expect(s.bootedPartition).toBeUndefined();
    expect(await tcpOpen(o.address, o.markerPort)).toBe(true);
    const c = await connect(o.address, o.sshPort, site.keys.enginePrivate, site.keys.hostPublic);
    const r = await exec(c, 'cat /root/.ssh/authorized_keys; ls /mnt');
    c.end();
    expect(r.stdout).toContain(site.keys.enginePublic.trim());
    expect(r.stdout).toContain('dest');
  });

  it('falls back to the default profile', async () => {
    writeFileSync(
      join(site.bootDir, 'default'),
      renderProfile({ kind: 'deploy_env', kernel: DEPLOY_KERNEL, initrd: 'i', params: '' }),
    );
    const { node } = await start('node-3.test');
    await waitState(node, 'deploy_env');
  });

  it('an unknown deployment kernel and an unparsable profile fail the boot', async () => {
    writeFileSync(
      join(site.bootDir, 'default'),
      renderProfile({ kind: 'deploy_env', kernel: 'other-kernel', initrd: 'i', params: '' }),
    );
    const { node, o } = await start('node-4.test');
    await waitState(node, 'boot_failed');
    expect(readFileSync(join(o.dir, 'console.log'), 'utf8')).toContain("kernel 'other-kernel' not found");
    writeFileSync(join(site.bootDir, 'default'), 'garbage\n');
    await node.reboot('hard');
    await waitState(node, 'boot_failed');
    expect(readFileSync(join(o.dir, 'console.log'), 'utf8')).toContain('could not be parsed');
  });

  it('chain-loads a partition only when its GRUB kernel exists', async () => {
    const { node, o } = await start('node-5.test');
    await waitState(node, 'production');
    const profile = join(site.bootDir, ipHex(o.address));
    writeFileSync(profile, renderProfile({ kind: 'local', partition: 3 }));
    await node.reboot('hard');
    let s = await waitState(node, 'boot_failed');
    expect(s.bootedPartition).toBeUndefined();
    expect(await tcpOpen(o.address, o.sshPort)).toBe(false);

    // Put a system on sda3 by hand (as a deployment would): grub.cfg naming a missing kernel first.
    const sda3 = join(o.dir, 'disk/sda3');
    const state = JSON.parse(readFileSync(join(o.dir, 'disk/state.json'), 'utf8'));
    state.partitions[2].fs = 'ext4';
    writeFileSync(join(o.dir, 'disk/state.json'), JSON.stringify(state));
    await node.stop();
    const again = new VirtualNode(o);
    nodes.push(again);
    mkdirSync(join(sda3, 'boot/grub'), { recursive: true });
    mkdirSync(join(sda3, 'root/.ssh'), { recursive: true });
    writeFileSync(join(sda3, 'root/.ssh/authorized_keys'), site.keys.enginePublic);
    writeFileSync(
      join(sda3, 'boot/grub/grub.cfg'),
      "menuentry 'x' {\n  linux /boot/vmlinuz-6.1 root=/dev/sda3\n}\n",
    );
    await again.start();
    await waitState(again, 'boot_failed');
    expect(readFileSync(join(o.dir, 'console.log'), 'utf8')).toContain("file '/boot/vmlinuz-6.1' not found");

    writeFileSync(join(sda3, 'boot/vmlinuz-6.1'), 'kernel');
    await again.reboot('hard');
    s = await waitState(again, 'installed');
    expect(s.bootedPartition).toBe(3);
    expect(await tcpOpen(o.address, o.markerPort)).toBe(false);

    // LOCALBOOT boots the MBR boot loader's partition: still production.
    writeFileSync(profile, renderProfile({ kind: 'localboot' }));
    await again.reboot('hard');
    s = await waitState(again, 'production');
    expect(s.bootedPartition).toBe(2);
    rmSync(profile);
  });

  it('charges the firmware delay to a reset as to a power-on', async () => {
    const o = nodeOptions(site, 'node-7.test', { hardware: { bootDelayMs: 20, firmwareDelayMs: 400 } });
    const node = new VirtualNode(o);
    nodes.push(node);
    await node.start();
    await waitState(node, 'production');
    const t0 = Date.now();
    await node.reboot('soft');
    await waitState(node, 'production');
    // A lower bound only: the reset went through the modelled firmware (kexec's saving, which
    // bench/kexec-firmware.mjs measures, is the absence of exactly this).
    expect(Date.now() - t0).toBeGreaterThanOrEqual(400);
  });

  it('powers off and on, and answers SSH only once booted', async () => {
    const o = nodeOptions(site, 'node-6.test', { hardware: { bootDelayMs: 150, firmwareDelayMs: 50 } });
    const node = new VirtualNode(o);
    nodes.push(node);
    await node.start();
    expect(node.status().state).toBe('booting');
    expect(await tcpOpen(o.address, o.sshPort)).toBe(false);
    await waitState(node, 'production');
    await node.powerOff();
    expect(node.status()).toMatchObject({ power: 'off', state: 'off' });
    expect(JSON.parse(readFileSync(join(o.dir, 'disk/state.json'), 'utf8')).power).toBe('off');
    expect(await tcpOpen(o.address, o.sshPort)).toBe(false);
    await expect(node.reboot('soft')).rejects.toThrow(/powered off/);
    await node.powerOn();
    await waitState(node, 'production');
    await node.reboot('very_hard');
    expect(node.status().state).toBe('booting');
    const s = await waitState(node, 'production');
    expect(s.bootCount).toBe(3);
  });
});
