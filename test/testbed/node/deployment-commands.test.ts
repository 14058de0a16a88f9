import { execFileSync } from 'node:child_process';
import { existsSync, mkdirSync, readFileSync, writeFileSync } from 'node:fs';
import { join } from 'node:path';
import { afterEach, beforeEach, describe, expect, it } from 'vitest';
import { grubConfig, nodeCommands, partitionScript } from '../../../src/formats/node-commands.js';
import { ipHex, renderProfile } from '../../../src/formats/pxe-profile.js';
import { generateReadableKeyPair } from '../../../src/testbed/manager/keys.js';
import {
  buildImage,
  connect,
  DEPLOY_KERNEL,
  exec,
  makeSite,
  nodeOptions,
  type Site,
  startInDeployEnv,
  VirtualNode,
  waitFor,
  waitState,
} from './fixtures.js';

const PARTS = { swap: 1, prod: 2, deploy: 3, tmp: 5 };

describe('deployment commands run for real, hardware commands act on the model', () => {
  let site: Site;
  let node: VirtualNode;
  let o: ReturnType<typeof nodeOptions>;
  beforeEach(async () => {
    site = makeSite();
    ({ node, o } = await startInDeployEnv(site, 'node-1.deploy'));
  });
  afterEach(async () => {
    await node.stop();
    site.cleanup();
  });

  it('partitions, formats, mounts, extracts a tar.gz, adds keys, runs a postinstall, installs GRUB, then boots the deployed system', async () => {
    const c = await connect(o.address, o.sshPort, site.keys.enginePrivate, site.keys.hostPublic);
    const ok = async (cmd: string, stdin?: Buffer | string) => {
      const r = await exec(c, cmd, stdin);
      expect(r, cmd).toMatchObject({ code: 0 });
      return r;
    };
    await ok(nodeCommands.createPartitionTable('/dev/sda'), partitionScript(PARTS));
    await ok(nodeCommands.format('/dev/sda3', 'ext4'));
    await ok(nodeCommands.formatSwap('/dev/sda1'));
    await ok(nodeCommands.mount('/dev/sda3', '/mnt/dest'));

    const image = readFileSync(buildImage(site.dir, 'debian-user', { kernel: true }));
    await ok(nodeCommands.extractTar('gzip', '/mnt/dest'), image);
    const sda3 = join(o.dir, 'disk/sda3');
    expect(readFileSync(join(sda3, 'etc/hostname'), 'utf8')).toBe('debian-user\n');
    expect(existsSync(join(sda3, 'bin/busybox'))).toBe(true);
    // production (sda2) kept its contents across the identical re-partitioning
    expect(readFileSync(join(o.dir, 'disk/sda2/etc/hostname'), 'utf8')).toBe('prod\n');

    const user = generateReadableKeyPair();
    await ok(nodeCommands.replaceAuthorizedKeys('/mnt/dest'), `${user.public}\n`);
    expect(readFileSync(join(sda3, 'root/.ssh/authorized_keys'), 'utf8')).toBe(`${user.public}\n`);

    // A postinstall archive whose script records its KADEPLOY_* variables on the deployed system.
    const post = join(site.dir, 'post');
    mkdirSync(post);
    writeFileSync(
      join(post, 'setup.sh'),
      'echo "$KADEPLOY_ENV $KADEPLOY_DEPLOY_PART $KADEPLOY_ENV_EXTRACTION_DIR" > "$KADEPLOY_ENV_EXTRACTION_DIR/postinstall.out"\n',
    );
    execFileSync('tar', ['-C', post, '-czf', join(site.dir, 'post.tgz'), '.']);
    const vars = {
      KADEPLOY_ENV: "debian 'user'",
      KADEPLOY_DEPLOY_PART: '/dev/sda3',
      KADEPLOY_ENV_EXTRACTION_DIR: '/mnt/dest',
    };
    await ok(
      nodeCommands.runPostinstall('gzip', '/tmp/postinstall', 'sh setup.sh', vars),
      readFileSync(join(site.dir, 'post.tgz')),
    );
    expect(readFileSync(join(sda3, 'postinstall.out'), 'utf8')).toBe("debian 'user' /dev/sda3 /mnt/dest\n");
    expect(existsSync(join(o.dir, 'deployenv/tmp/postinstall/setup.sh'))).toBe(true);

    await ok(nodeCommands.checkFiles(['/mnt/dest/boot/vmlinuz']));
    expect(
      (await exec(c, nodeCommands.checkFiles(['/mnt/dest/boot/vmlinuz', '/mnt/dest/boot/initrd.img']))).code,
    ).not.toBe(0);
    await ok(
      nodeCommands.writeFile('/mnt/dest/boot/grub/grub.cfg'),
      grubConfig('debian-user', '/boot/vmlinuz', undefined, '/dev/sda3', 'quiet'),
    );
    await ok(nodeCommands.installBootloader('/mnt/dest/boot', '/dev/sda'));
    expect(JSON.parse(readFileSync(join(o.dir, 'disk/state.json'), 'utf8')).bootPartition).toBe(3);
    await ok(nodeCommands.sync());
    await ok(nodeCommands.umount('/mnt/dest'));

    writeFileSync(join(site.bootDir, ipHex(o.address)), renderProfile({ kind: 'local', partition: 3 }));
    const closed = new Promise((r) => c.once('close', () => r(undefined)));
    await ok(nodeCommands.reboot());
    await closed;
    const s = await waitState(node, 'installed');
    expect(s.bootedPartition).toBe(3);

    // The deployed system answers with the user's key (-k) and runs its own userland (busybox).
    const u = await connect(o.address, o.sshPort, user.private, site.keys.hostPublic);
    const r = await exec(u, 'cat /etc/hostname; cat /postinstall.out; ls -l /bin/sh');
    u.end();
    expect(r.stdout).toContain('debian-user\n');
    expect(r.stdout).toContain('-> busybox');
    await expect(
      connect(o.address, o.sshPort, site.keys.enginePrivate, site.keys.hostPublic),
    ).rejects.toThrow(/authentication/i);
  });

  it('kexec boots the kernel it loaded, without PXE', async () => {
    const c = await connect(o.address, o.sshPort, site.keys.enginePrivate, site.keys.hostPublic);
    for (const cmd of [
      nodeCommands.format('/dev/sda3', 'ext4'),
      nodeCommands.mount('/dev/sda3', '/mnt/dest'),
    ])
      expect((await exec(c, cmd)).code).toBe(0);
    expect(
      (await exec(c, nodeCommands.extractTar('gzip', '/mnt/dest'), readFileSync(buildImage(site.dir, 'kx'))))
        .code,
    ).toBe(0);
    await exec(c, nodeCommands.appendAuthorizedKeys('/mnt/dest'), site.keys.enginePublic);
    expect((await exec(c, nodeCommands.kexecExec())).stderr).toContain('Nothing has been loaded');
    const missing = await exec(c, nodeCommands.kexecLoad('/mnt/dest/boot/nope', undefined, 'root=/dev/sda3'));
    expect(missing.code).toBe(1);
    expect(missing.stderr).toContain('/mnt/dest/boot/nope');
    expect(
      (
        await exec(
          c,
          nodeCommands.kexecLoad('/mnt/dest/boot/vmlinuz', undefined, 'root=/dev/sda3 console=ttyS0'),
        )
      ).code,
    ).toBe(0);
    expect((await exec(c, nodeCommands.kexecExec())).code).toBe(0);
    const s = await waitState(node, 'installed');
    expect(s.bootedPartition).toBe(3);
    c.end();
  });

  it('kexec with root= boots that partition even when the kernel shares the deploy kernel name', async () => {
    await node.stop();
    o = nodeOptions(site, 'node-2.deploy', { deployKernel: 'deploy/vmlinuz' });
    writeFileSync(
      join(site.bootDir, ipHex(o.address)),
      renderProfile({ kind: 'deploy_env', kernel: 'deploy/vmlinuz', initrd: 'deploy/initrd', params: '' }),
    );
    node = new VirtualNode(o);
    await node.start();
    await waitState(node, 'deploy_env');
    const c = await connect(o.address, o.sshPort, site.keys.enginePrivate, site.keys.hostPublic);
    for (const cmd of [
      nodeCommands.format('/dev/sda3', 'ext4'),
      nodeCommands.mount('/dev/sda3', '/mnt/dest'),
    ])
      expect((await exec(c, cmd)).code).toBe(0);
    expect(
      (
        await exec(
          c,
          nodeCommands.extractTar('gzip', '/mnt/dest'),
          readFileSync(buildImage(site.dir, 'same-name')),
        )
      ).code,
    ).toBe(0);
    expect(
      (await exec(c, nodeCommands.kexecLoad('/mnt/dest/boot/vmlinuz', undefined, 'root=/dev/sda3'))).code,
    ).toBe(0);
    expect((await exec(c, nodeCommands.kexecExec())).code).toBe(0);
    expect((await waitFor(node, (s) => s.state !== 'booting' && s.bootCount === 2)).state).toBe('installed');
    c.end();
  });

  it('kexec from production into the deployment environment kernel the engine sent', async () => {
    writeFileSync(join(site.bootDir, ipHex(o.address)), renderProfile({ kind: 'localboot' }));
    const c0 = await connect(o.address, o.sshPort, site.keys.enginePrivate, site.keys.hostPublic);
    const closed = new Promise((r) => c0.once('close', () => r(undefined)));
    expect((await exec(c0, nodeCommands.reboot())).code).toBe(0);
    await closed;
    await waitState(node, 'production');
    const c = await connect(o.address, o.sshPort, site.keys.enginePrivate, site.keys.hostPublic);
    expect((await exec(c, nodeCommands.writeFile(`/tmp/${DEPLOY_KERNEL}`), 'kernel bytes')).code).toBe(0);
    expect(readFileSync(join(o.dir, 'disk/sda2/tmp', DEPLOY_KERNEL), 'utf8')).toBe('kernel bytes');
    expect(
      (await exec(c, nodeCommands.kexecLoad(`/tmp/${DEPLOY_KERNEL}`, undefined, 'console=ttyS0'))).code,
    ).toBe(0);
    expect((await exec(c, nodeCommands.kexecExec())).code).toBe(0);
    await waitState(node, 'deploy_env');
    c.end();
  });

  it('a dd image written raw to the deploy partition is mounted as its file system', async () => {
    const src = join(site.dir, 'ddroot');
    mkdirSync(join(src, 'boot'), { recursive: true });
    writeFileSync(join(src, 'boot/vmlinuz'), 'k');
    writeFileSync(join(src, 'hello'), 'from dd\n');
    const img = join(site.dir, 'fs.ext4');
    execFileSync('mke2fs', ['-q', '-t', 'ext4', '-d', src, img, '4M']);
    execFileSync('gzip', ['-k', img]);
    const c = await connect(o.address, o.sshPort, site.keys.enginePrivate, site.keys.hostPublic);
    const w = await exec(c, nodeCommands.writeDd('gzip', '/dev/sda3'), readFileSync(`${img}.gz`));
    expect(w.code).toBe(0);
    expect(readFileSync(join(o.dir, 'disk/sda3.img')).length).toBe(4 * 1024 * 1024);
    expect((await exec(c, nodeCommands.mount('/dev/sda3', '/mnt/dest'))).code).toBe(0);
    expect((await exec(c, 'cat /mnt/dest/hello')).stdout).toBe('from dd\n');
    expect(JSON.parse(readFileSync(join(o.dir, 'disk/state.json'), 'utf8')).partitions[2].fs).toBe('ext4');
    c.end();
  });
});
