import { existsSync, mkdirSync, readFileSync, symlinkSync, writeFileSync } from 'node:fs';
import { join } from 'node:path';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { nodeCommands } from '../../../src/formats/node-commands.js';
import { ipHex, renderProfile } from '../../../src/formats/pxe-profile.js';
import {
  connect,
  exec,
  makeSite,
  type nodeOptions,
  type Site,
  startInDeployEnv,
  type VirtualNode,
  waitState,
} from './fixtures.js';

// Unique names so a failure cannot be confused with a leftover.
const MARK = `kaploy-escape-${process.pid}`;

describe('nothing run on a virtual node reaches the host outside its sandbox', () => {
  let site: Site;
  let node: VirtualNode;
  let o: ReturnType<typeof nodeOptions>;
  const profile = () => join(site.bootDir, ipHex(o.address));
  beforeAll(async () => {
    site = makeSite();
    ({ node, o } = await startInDeployEnv(site, 'node-1.escape', 'default'));
  });
  afterAll(async () => {
    await node.stop();
    site.cleanup();
  });

  it('deployment environment: host directories are read-only or absent, writes land in the sandbox', async () => {
    const c = await connect(o.address, o.sshPort, site.keys.enginePrivate, site.keys.hostPublic);
    const usr = await exec(c, `echo x > /usr/bin/${MARK}`);
    expect(usr.code).not.toBe(0);
    expect(usr.stderr).toMatch(/Read-only file system/);
    expect(existsSync(`/usr/bin/${MARK}`)).toBe(false);
    const root = await exec(c, `touch /${MARK}`);
    expect(root.code).not.toBe(0);
    expect(existsSync(`/${MARK}`)).toBe(false);
    // /etc is the deployment environment's own (RAM) /etc: the file appears in the sandbox only.
    expect((await exec(c, `touch /etc/${MARK}`)).code).toBe(0);
    expect(existsSync(`/etc/${MARK}`)).toBe(false);
    expect(existsSync(join(o.dir, 'deployenv/etc', MARK))).toBe(true);
    // Host files outside the bound tool directories are not even visible.
    expect(existsSync('/etc/shadow') || existsSync('/etc/passwd')).toBe(true);
    expect((await exec(c, 'test -e /etc/shadow || test -e /home || test -e /var')).code).toBe(1);
    expect((await exec(c, `test -e ${site.dir}`)).code).toBe(1);
    // No capabilities: the sandboxed root cannot mount, remount or create devices.
    const m = await exec(c, 'busybox mount -t tmpfs none /mnt || mount -o remount,rw /usr');
    expect(m.code).not.toBe(0);
    expect((await exec(c, `busybox mknod /tmp/${MARK} b 8 0`)).code).not.toBe(0);
    expect((await exec(c, 'grep CapEff /proc/self/status')).stdout).toMatch(/CapEff:\s+0+\n/);
    c.end();
  });

  it('mount and umount refuse path traversal and symbolic links planted in the sandbox', async () => {
    const c = await connect(o.address, o.sshPort, site.keys.enginePrivate, site.keys.hostPublic);
    expect((await exec(c, nodeCommands.format('/dev/sda3', 'ext4'))).code).toBe(0);
    const dotdot = await exec(c, nodeCommands.mount('/dev/sda3', '/mnt/../../etc'));
    expect(dotdot.code).toBe(32);
    expect(dotdot.stderr).toContain("'..' is not allowed");
    expect((await exec(c, nodeCommands.umount('/mnt/dest/../../..'))).code).toBe(32);
    // A symlink made inside the sandbox pointing at the host's /etc (as the host would resolve it).
    expect((await exec(c, 'ln -s /etc /mnt/evil && ln -s ../../../../../../../../etc /mnt/evil2')).code).toBe(
      0,
    );
    for (const dir of ['/mnt/evil', '/mnt/evil2', '/mnt/evil/x']) {
      const r = await exec(c, nodeCommands.mount('/dev/sda3', dir));
      expect(r.code, dir).toBe(32);
    }
    const g = await exec(c, nodeCommands.installBootloader('/mnt/evil', '/dev/sda'));
    expect(g.code).toBe(1);
    // Through the symlink, a command only reaches the sandbox's own /etc.
    expect((await exec(c, `echo x > /mnt/evil/${MARK}-2`)).code).toBe(0);
    expect(existsSync(`/etc/${MARK}-2`)).toBe(false);
    expect(existsSync(join(o.dir, 'deployenv/etc', `${MARK}-2`))).toBe(true);
    c.end();
  });

  it('an installed system is confined to its partition; its GRUB config cannot name host files', async () => {
    const sda3 = join(o.dir, 'disk/sda3');
    const c = await connect(o.address, o.sshPort, site.keys.enginePrivate, site.keys.hostPublic);
    expect((await exec(c, nodeCommands.mount('/dev/sda3', '/mnt/dest'))).code).toBe(0);
    c.end();
    // A bootable system on sda3 (files put in place from the host, as the test's deployment).
    mkdirSync(join(sda3, 'bin'), { recursive: true });
    mkdirSync(join(sda3, 'boot/grub'), { recursive: true });
    mkdirSync(join(sda3, 'root/.ssh'), { recursive: true });
    mkdirSync(join(sda3, 'etc'), { recursive: true });
    writeFileSync(join(sda3, 'bin/busybox'), readFileSync('/bin/busybox'), { mode: 0o755 });
    symlinkSync('busybox', join(sda3, 'bin/sh'));
    symlinkSync('busybox', join(sda3, 'bin/touch'));
    writeFileSync(join(sda3, 'root/.ssh/authorized_keys'), site.keys.enginePublic);
    writeFileSync(
      join(sda3, 'boot/grub/grub.cfg'),
      'menuentry x {\n linux /../../../../../../bin/busybox\n}\n',
    );
    writeFileSync(profile(), renderProfile({ kind: 'local', partition: 3 }));
    await node.reboot('hard');
    await waitState(node, 'boot_failed');
    expect(readFileSync(join(o.dir, 'console.log'), 'utf8')).toContain("'..' is not allowed");
    // A kernel path through a symlink pointing at a host file is refused too.
    symlinkSync('/bin/busybox', join(sda3, 'boot/vmlinuz-link'));
    writeFileSync(join(sda3, 'boot/grub/grub.cfg'), 'menuentry x {\n linux /boot/vmlinuz-link\n}\n');
    await node.reboot('hard');
    await waitState(node, 'boot_failed');
    expect(readFileSync(join(o.dir, 'console.log'), 'utf8')).toContain('symbolic links are not followed');

    writeFileSync(join(sda3, 'boot/vmlinuz'), 'kernel');
    writeFileSync(
      join(sda3, 'boot/grub/grub.cfg'),
      'menuentry x {\n linux /boot/vmlinuz root=/dev/sda3\n}\n',
    );
    await node.reboot('hard');
    await waitState(node, 'installed');
    const i = await connect(o.address, o.sshPort, site.keys.enginePrivate, site.keys.hostPublic);
    expect((await exec(i, `touch /etc/${MARK}-3 && touch /${MARK}-3`)).code).toBe(0);
    expect(existsSync(`/etc/${MARK}-3`)).toBe(false);
    expect(existsSync(`/${MARK}-3`)).toBe(false);
    expect(existsSync(join(sda3, 'etc', `${MARK}-3`))).toBe(true);
    expect((await exec(i, 'test -e /usr/bin/env || test -e /home')).code).toBe(1);
    i.end();
  });
});
