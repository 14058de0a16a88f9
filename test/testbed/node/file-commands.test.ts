import { execFileSync } from 'node:child_process';
import {
  existsSync,
  linkSync,
  mkdirSync,
  mkdtempSync,
  readFileSync,
  rmSync,
  symlinkSync,
  writeFileSync,
} from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { Readable } from 'node:stream';
import { afterAll, afterEach, beforeAll, beforeEach, describe, expect, it } from 'vitest';
import { grubConfig, nodeCommands } from '../../../src/formats/node-commands.js';
import { ipHex } from '../../../src/formats/pxe-profile.js';
import { BootedSystem } from '../../../src/testbed/node/booted-system.js';
import { DiskModel } from '../../../src/testbed/node/disk-model.js';
import {
  type FileCommand,
  planFileCommand,
  runFileCommand,
} from '../../../src/testbed/node/file-commands.js';
import { HardwareError } from '../../../src/testbed/node/hardware-error.js';
import {
  connect,
  exec,
  makeSite,
  type nodeOptions,
  type Site,
  startInDeployEnv,
  type VirtualNode,
} from './fixtures.js';

const stdinOf = (text: string) => () => Readable.from([Buffer.from(text)]);
const noStdin = () => Readable.from([]);

/**
 * A deployment environment with partition 3 mounted on /mnt/dest, built directly on a node
 * directory, and a host directory `outside` that nothing may touch.
 */
describe('file commands answered by the node itself (test -f, mkdir -p, cat >)', () => {
  let dir: string;
  let outside: string;
  let sda3: string;
  let system: BootedSystem;
  beforeEach(() => {
    dir = mkdtempSync(join(tmpdir(), 'kaploy-filecmd-'));
    outside = join(dir, 'outside');
    mkdirSync(outside);
    writeFileSync(join(outside, 'secret'), 'host data\n');
    const nodeDir = join(dir, 'node');
    for (const d of ['etc', 'root', 'tmp', 'mnt/dest'])
      mkdirSync(join(nodeDir, 'deployenv', d), { recursive: true });
    const disk = new DiskModel(join(nodeDir, 'disk'), '/dev/sda', {
      version: 1,
      label: 'dos',
      partitions: [{ number: 3, type: '83', fs: 'ext4' }],
      bootPartition: null,
      power: 'on',
    });
    sda3 = disk.partitionDir(3);
    mkdirSync(join(sda3, 'boot'), { recursive: true });
    writeFileSync(join(sda3, 'boot/vmlinuz'), 'kernel');
    system = new BootedSystem(disk, nodeDir, join(nodeDir, 'deployenv'), 'n1');
    system.mounts.push({ mountPoint: '/mnt/dest', partition: 3 });
  });
  afterEach(() => rmSync(dir, { recursive: true, force: true }));

  const run = (cmd: FileCommand, stdin = noStdin) => runFileCommand(system, cmd, stdin);
  const refused = async (cmd: FileCommand, stdin = noStdin) => {
    const e = await run(cmd, stdin).then(
      () => undefined,
      (x: unknown) => x,
    );
    expect(e, JSON.stringify(cmd)).toBeInstanceOf(HardwareError);
    return (e as HardwareError).message;
  };
  const outsideUntouched = () => {
    expect(readFileSync(join(outside, 'secret'), 'utf8')).toBe('host data\n');
    expect(execFileSync('ls', ['-A', outside], { encoding: 'utf8' })).toBe('secret\n');
  };

  it('test -f, mkdir -p and cat > act on the sandbox directories the view maps', async () => {
    expect(await run({ kind: 'test-f', path: '/mnt/dest/boot/vmlinuz' })).toBe(0);
    expect(await run({ kind: 'test-f', path: '/mnt/dest/boot/initrd' })).toBe(1);
    expect(await run({ kind: 'test-f', path: '/mnt/dest/boot' })).toBe(1); // a directory
    expect(await run({ kind: 'test-f', path: '/mnt/dest/boot/vmlinuz/x' })).toBe(1);
    expect(await run({ kind: 'test-f', path: '/mnt/dest/none/x' })).toBe(1);
    expect(await run({ kind: 'mkdir-p', path: '/mnt/dest/boot/grub/a/b' })).toBe(0);
    expect(await run({ kind: 'mkdir-p', path: '/mnt/dest/boot/grub/a/b' })).toBe(0); // -p: exists is fine
    expect(existsSync(join(sda3, 'boot/grub/a/b'))).toBe(true);
    const cfg = { kind: 'write', path: '/mnt/dest/boot/grub/grub.cfg' } as const;
    expect(await run(cfg, stdinOf('longer first content\n'))).toBe(0);
    expect(await run(cfg, stdinOf('set default=0\n'))).toBe(0); // truncated, as `cat >`
    expect(readFileSync(join(sda3, 'boot/grub/grub.cfg'), 'utf8')).toBe('set default=0\n');
    // The deployment environment's own directories.
    expect(await run({ kind: 'write', path: '/tmp/k' }, stdinOf('x'))).toBe(0);
    expect(readFileSync(join(dir, 'node/deployenv/tmp/k'), 'utf8')).toBe('x');
    expect(await run({ kind: 'test-f', path: '/tmp/k' })).toBe(0);
    // What sh would refuse.
    expect(await refused({ kind: 'write', path: '/mnt/dest/nodir/x' }, stdinOf('x'))).toMatch(
      /Directory nonexistent/,
    );
    expect(await refused({ kind: 'write', path: '/mnt/dest/boot' }, stdinOf('x'))).toMatch(/Is a directory/);
    expect(await refused({ kind: 'mkdir-p', path: '/mnt/dest/boot/vmlinuz/x' })).toMatch(/Not a directory/);
    expect(await refused({ kind: 'write', path: '/usr/x' }, stdinOf('x'))).toMatch(/Read-only file system/);
    outsideUntouched();
  });

  it("the plan leaves to the sandbox what is not plainly the node's own", async () => {
    symlinkSync(outside, join(sda3, 'boot/link'));
    symlinkSync('../../../../../outside/secret', join(sda3, 'boot/rel'));
    const own = (cmd: FileCommand) => planFileCommand(system, cmd);
    expect(await own({ kind: 'write', path: '/mnt/dest/boot/grub/grub.cfg' })).toBe(true); // missing yet
    expect(await own({ kind: 'mkdir-p', path: '/mnt/dest/boot/grub' })).toBe(true);
    expect(await own({ kind: 'test-f', path: '/mnt/dest/boot/vmlinuz' })).toBe(true);
    for (const cmd of [
      { kind: 'test-f', path: '/mnt/dest/boot/link/secret' },
      { kind: 'test-f', path: '/mnt/dest/boot/rel' },
      { kind: 'write', path: '/mnt/dest/boot/link/x' },
      { kind: 'write', path: '/mnt/dest/boot/rel' },
      { kind: 'mkdir-p', path: '/mnt/dest/boot/link/grub' },
      { kind: 'write', path: '/mnt/dest/../../outside/x' }, // '..': never normalised by the node
      { kind: 'test-f', path: '/mnt/dest/boot/../boot/vmlinuz' },
      { kind: 'write', path: 'relative' },
      { kind: 'test-f', path: '/usr/bin/env' }, // read-only host tools
      { kind: 'test-f', path: '/proc/self/status' },
      { kind: 'test-f', path: '/dev/sda3' },
      { kind: 'test-f', path: '/etc/alternatives/x' },
      { kind: 'write', path: '/mnt/dest/boot' }, // a directory
      { kind: 'mkdir-p', path: '/mnt/dest/boot/vmlinuz' }, // a file
    ] as FileCommand[]) {
      expect(await own(cmd), JSON.stringify(cmd)).toBe(false);
    }
    outsideUntouched();
  });

  it('at run time (a link swapped in after the plan) nothing outside is created, truncated or tested', async () => {
    symlinkSync(outside, join(sda3, 'boot/grub'));
    expect(await refused({ kind: 'mkdir-p', path: '/mnt/dest/boot/grub/x' })).toMatch(/symbolic links/);
    expect(await refused({ kind: 'write', path: '/mnt/dest/boot/grub/grub.cfg' }, stdinOf('evil'))).toMatch(
      /symbolic links/,
    );
    expect(await refused({ kind: 'write', path: '/mnt/dest/boot/grub/secret' }, stdinOf('evil'))).toMatch(
      /symbolic links/,
    );
    expect(await refused({ kind: 'test-f', path: '/mnt/dest/boot/grub/secret' })).toMatch(/symbolic links/);
    // The file itself a link (absolute or relative) to a host file.
    symlinkSync(join(outside, 'secret'), join(sda3, 'boot/abs'));
    symlinkSync('../../../../outside/secret', join(sda3, 'boot/rel'));
    for (const f of ['abs', 'rel']) {
      expect(await refused({ kind: 'write', path: `/mnt/dest/boot/${f}` }, stdinOf('evil'))).toMatch(
        /symbolic links/,
      );
      expect(await refused({ kind: 'test-f', path: `/mnt/dest/boot/${f}` })).toMatch(/symbolic links/);
    }
    // A link higher up: the mount point's own directory in the deployment environment.
    symlinkSync(outside, join(dir, 'node/deployenv/tmp/up'));
    expect(await refused({ kind: 'mkdir-p', path: '/tmp/up/a/b' })).toMatch(/symbolic links/);
    expect(await refused({ kind: 'write', path: '/tmp/up/secret' }, stdinOf('evil'))).toMatch(
      /symbolic links/,
    );
    expect(await refused({ kind: 'write', path: '/mnt/../../outside/secret' }, stdinOf('evil'))).toMatch(
      /Read-only file system/,
    );
    outsideUntouched();
  });

  it('a FIFO does not block the daemon; a file with a second name is left alone', async () => {
    execFileSync('mkfifo', [join(sda3, 'boot/fifo')]);
    expect(await refused({ kind: 'write', path: '/mnt/dest/boot/fifo' }, stdinOf('x'))).toBeTruthy();
    linkSync(join(sda3, 'boot/vmlinuz'), join(sda3, 'boot/hard'));
    expect(await refused({ kind: 'write', path: '/mnt/dest/boot/hard' }, stdinOf('evil'))).toMatch(
      /not a plain file/,
    );
    expect(readFileSync(join(sda3, 'boot/vmlinuz'), 'utf8')).toBe('kernel');
  });
});

describe('file commands over SSH: native on plain paths, the sandbox otherwise', () => {
  let site: Site;
  let node: VirtualNode;
  let o: ReturnType<typeof nodeOptions>;
  const MARK = `kaploy-filecmd-${process.pid}`;
  beforeAll(async () => {
    site = makeSite();
    ({ node, o } = await startInDeployEnv(site, 'node-1.filecmd'));
  });
  afterAll(async () => {
    await node.stop();
    site.cleanup();
  });

  it('writes grub.cfg and installs GRUB in one command; refuses a boot directory leading out', async () => {
    const c = await connect(o.address, o.sshPort, site.keys.enginePrivate, site.keys.hostPublic);
    expect((await exec(c, nodeCommands.format('/dev/sda3', 'ext4'))).code).toBe(0);
    expect((await exec(c, nodeCommands.mount('/dev/sda3', '/mnt/dest'))).code).toBe(0);
    const sda3 = join(o.dir, 'disk/sda3');
    const cfg = grubConfig('e', '/boot/vmlinuz', undefined, '/dev/sda3', '');
    const install = `${nodeCommands.writeFile('/mnt/dest/boot/grub/grub.cfg')} && ${nodeCommands.installBootloader('/mnt/dest/boot', '/dev/sda')}`;
    expect(await exec(c, install, cfg)).toMatchObject({ code: 0, stderr: '' });
    expect(readFileSync(join(sda3, 'boot/grub/grub.cfg'), 'utf8')).toBe(cfg);
    expect(JSON.parse(readFileSync(join(o.dir, 'disk/state.json'), 'utf8')).bootPartition).toBe(3);
    expect((await exec(c, nodeCommands.checkFiles(['/mnt/dest/boot/grub/grub.cfg']))).code).toBe(0);
    const two = await exec(c, nodeCommands.checkFiles(['/mnt/dest/boot/grub/grub.cfg', '/mnt/dest/nope']));
    expect(two).toMatchObject({ code: 1, stderr: '' });

    // The deployed image makes /boot a link to the host's /etc: the node refuses, nothing lands there.
    rmSync(join(sda3, 'boot'), { recursive: true });
    symlinkSync('/etc', join(sda3, 'boot'));
    const r = await exec(c, install.replaceAll('/mnt/dest/boot/grub', `/mnt/dest/boot/${MARK}`), cfg);
    expect(r.code).not.toBe(0);
    expect(r.stderr).toMatch(/symbolic links are not followed/);
    expect(existsSync(`/etc/${MARK}`)).toBe(false);
    c.end();
  });

  it('a link or `..` in the path: the sandbox does it, inside its own view', async () => {
    const c = await connect(o.address, o.sshPort, site.keys.enginePrivate, site.keys.hostPublic);
    // A link to /etc made inside the sandbox: there it means the sandbox's own /etc.
    expect((await exec(c, 'ln -s /etc /mnt/etclink')).code).toBe(0);
    expect((await exec(c, nodeCommands.writeFile(`/mnt/etclink/${MARK}/f`), 'via link\n')).code).toBe(0);
    expect(existsSync(`/etc/${MARK}`)).toBe(false);
    expect(readFileSync(join(o.dir, 'deployenv/etc', MARK, 'f'), 'utf8')).toBe('via link\n');
    expect((await exec(c, nodeCommands.checkFiles([`/mnt/etclink/${MARK}/f`]))).code).toBe(0);
    expect((await exec(c, nodeCommands.writeFile(`/mnt/../etc/${MARK}-2`), 'dotdot\n')).code).toBe(0);
    expect(existsSync(`/etc/${MARK}-2`)).toBe(false);
    expect(readFileSync(join(o.dir, 'deployenv/etc', `${MARK}-2`), 'utf8')).toBe('dotdot\n');
    // Read-only host tools stay read-only; a host file is not visible.
    const ro = await exec(c, nodeCommands.writeFile(`/usr/bin/${MARK}`), 'x');
    expect(ro.code).not.toBe(0);
    expect(existsSync(`/usr/bin/${MARK}`)).toBe(false);
    expect((await exec(c, nodeCommands.checkFiles(['/usr/bin/env']))).code).toBe(0);
    expect(
      (await exec(c, nodeCommands.checkFiles([join(site.dir, 'pxelinux.cfg', ipHex(o.address))]))).code,
    ).toBe(1);
    c.end();
  });
});
