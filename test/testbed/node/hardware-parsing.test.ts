import { describe, expect, it } from 'vitest';
import { nodeCommands, partitionScript } from '../../../src/formats/node-commands.js';
import { parseSfdiskScript } from '../../../src/formats/sfdisk-script.js';
import { commandList, simpleCommandWords } from '../../../src/testbed/node/command-words.js';
import { parseHardwareCommand, parseNativeList } from '../../../src/testbed/node/hardware-commands.js';

describe('simpleCommandWords', () => {
  it('honours POSIX quotes and backslashes', () => {
    expect(simpleCommandWords(`mount '/dev/sda3' "/mnt/my dir" a\\ b 'it'\\''s'`)).toEqual([
      'mount',
      '/dev/sda3',
      '/mnt/my dir',
      'a b',
      "it's",
    ]);
    expect(simpleCommandWords(`x "a\\"b\\\\c"`)).toEqual(['x', 'a"b\\c']);
  });
  it('rejects anything sh would interpret beyond literal words', () => {
    for (const line of [
      'a | b',
      'a && b',
      'a; b',
      'a > f',
      'echo $HOME',
      'echo "$HOME"',
      'echo `id`',
      'ls *',
      '# c',
      "echo 'open",
      'echo "open',
      'a\nb',
      '~/x',
    ]) {
      expect(simpleCommandWords(line), line).toBeUndefined();
    }
  });
});

describe('parseHardwareCommand', () => {
  it('recognises every shape built by node-commands', () => {
    expect(parseHardwareCommand(nodeCommands.createPartitionTable('/dev/sda'))).toEqual({
      kind: 'sfdisk',
      device: '/dev/sda',
    });
    expect(parseHardwareCommand(nodeCommands.format('/dev/sda3', 'ext4'))).toEqual({
      kind: 'mkfs',
      fstype: 'ext4',
      device: '/dev/sda3',
    });
    expect(parseHardwareCommand(nodeCommands.formatSwap('/dev/sda1'))).toEqual({
      kind: 'mkswap',
      device: '/dev/sda1',
    });
    expect(parseHardwareCommand(nodeCommands.mount('/dev/sda3', '/mnt/a b'))).toEqual({
      kind: 'mount',
      device: '/dev/sda3',
      dir: '/mnt/a b',
    });
    // Bare mount lists the table; -o bind is the tutorial's manual capture.
    expect(parseHardwareCommand('mount')).toEqual({ kind: 'mount-list' });
    expect(parseHardwareCommand('mount -o bind / /mnt')).toEqual({
      kind: 'bind-mount',
      source: '/',
      dir: '/mnt',
    });
    expect(parseHardwareCommand(nodeCommands.umount('/mnt/dest'))).toEqual({
      kind: 'umount',
      dir: '/mnt/dest',
    });
    expect(parseHardwareCommand(nodeCommands.installBootloader('/mnt/dest/boot', '/dev/sda'))).toEqual({
      kind: 'grub-install',
      bootDir: '/mnt/dest/boot',
      device: '/dev/sda',
    });
    expect(
      parseHardwareCommand(
        nodeCommands.kexecLoad('/mnt/dest/vmlinuz', '/mnt/dest/initrd', 'root=/dev/sda3 quiet'),
      ),
    ).toEqual({
      kind: 'kexec-load',
      kernel: '/mnt/dest/vmlinuz',
      initrd: '/mnt/dest/initrd',
      append: 'root=/dev/sda3 quiet',
    });
    expect(parseHardwareCommand(nodeCommands.kexecExec())).toEqual({ kind: 'kexec-exec' });
    expect(parseHardwareCommand(nodeCommands.reboot())).toEqual({ kind: 'reboot' });
    expect(parseHardwareCommand(nodeCommands.sync())).toEqual({ kind: 'sync' });
    const sink = nodeCommands.extractTar('zstd', '/mnt/dest');
    expect(parseHardwareCommand(nodeCommands.chainRelay(7000, '127.1.0.3:7000', sink))).toEqual({
      kind: 'relay',
      port: 7000,
      next: [{ host: '127.1.0.3', port: 7000 }],
      sink,
    });
    expect(
      parseHardwareCommand(nodeCommands.chainRelay(7000, ['127.1.0.3:7000', 'n-4.site:7001'], sink)),
    ).toEqual({
      kind: 'relay',
      port: 7000,
      next: [
        { host: '127.1.0.3', port: 7000 },
        { host: 'n-4.site', port: 7001 },
      ],
      sink,
    });
    expect(parseHardwareCommand(nodeCommands.chainRelay(7000, undefined, sink))).toEqual({
      kind: 'relay',
      port: 7000,
      next: [],
      sink,
    });
    expect(parseHardwareCommand(nodeCommands.chainRelay(7000, Array(17).fill('h:1'), sink))?.kind).toBe(
      'unsupported',
    );
  });
  it('leaves ordinary command lines alone, and names unsupported forms of hardware programs', () => {
    expect(parseHardwareCommand(nodeCommands.extractTar('gzip', '/mnt/dest'))).toBeUndefined();
    expect(parseHardwareCommand('sync && reboot')).toBeUndefined();
    expect(parseHardwareCommand('tar -xf x')).toBeUndefined();
    for (const line of [
      'mount -o loop a b',
      'mount /dev/sda3',
      'mount -o bind a',
      'mount -o bind,ro a b',
      'reboot -f',
      'kexec -l k',
      'kaploy-relay --port 99999 -- sh -c x',
      'kaploy-relay --port 1 --next bad -- sh -c x',
      'mkfs.ext4 /dev/sda3',
    ]) {
      const r = parseHardwareCommand(line);
      if (line.startsWith('mkfs.')) expect(r).toBeUndefined();
      else expect(r?.kind, line).toBe('unsupported');
    }
  });
});

describe('commandList', () => {
  it('splits AND lists of simple commands, each with at most one `> FILE`', () => {
    expect(commandList(`mkdir -p '/mnt/a b' && cat > '/mnt/a b/c'&&x "y"`)).toEqual([
      { words: ['mkdir', '-p', '/mnt/a b'] },
      { words: ['cat'], stdoutTo: '/mnt/a b/c' },
      { words: ['x', 'y'] },
    ]);
    expect(commandList('cat >f')).toEqual([{ words: ['cat'], stdoutTo: 'f' }]);
    expect(commandList('cat>f')).toEqual([{ words: ['cat'], stdoutTo: 'f' }]);
    expect(commandList(`echo '&&' ">"`)).toEqual([{ words: ['echo', '&&', '>'] }]);
    expect(commandList('')).toEqual([]);
  });
  it('rejects every other operator, fd redirections, appends and empty commands', () => {
    for (const line of [
      'a || b',
      'a & b',
      'a && ',
      '&& a',
      'a && && b',
      'cat >> f',
      'cat 2> f',
      'cat >&2',
      'cat >| f',
      'cat > f > g',
      'cat >',
      'cat > $F',
      'cat < f',
      'a && b | c',
      'a && b; c',
      'a && # c',
    ]) {
      expect(commandList(line), line).toBeUndefined();
    }
  });
});

describe('parseNativeList', () => {
  it("recognises the engine's file commands and AND lists of them with hardware commands", () => {
    expect(
      parseNativeList(nodeCommands.checkFiles(['/mnt/dest/boot/vmlinuz', '/mnt/dest/boot/initrd'])),
    ).toEqual([
      { kind: 'file', cmd: { kind: 'test-f', path: '/mnt/dest/boot/vmlinuz' } },
      { kind: 'file', cmd: { kind: 'test-f', path: '/mnt/dest/boot/initrd' } },
    ]);
    expect(
      parseNativeList(
        `${nodeCommands.writeFile('/mnt/dest/boot/grub/grub.cfg')} && ${nodeCommands.installBootloader('/mnt/dest/boot', '/dev/sda')}`,
      ),
    ).toEqual([
      { kind: 'file', cmd: { kind: 'mkdir-p', path: '/mnt/dest/boot/grub' } },
      { kind: 'file', cmd: { kind: 'write', path: '/mnt/dest/boot/grub/grub.cfg' } },
      { kind: 'hardware', cmd: { kind: 'grub-install', bootDir: '/mnt/dest/boot', device: '/dev/sda' } },
    ]);
    expect(parseNativeList(nodeCommands.writeFile("/tmp/it's/x"))).toEqual([
      { kind: 'file', cmd: { kind: 'mkdir-p', path: "/tmp/it's" } },
      { kind: 'file', cmd: { kind: 'write', path: "/tmp/it's/x" } },
    ]);
    expect(parseNativeList('sync && reboot')).toEqual([
      { kind: 'hardware', cmd: { kind: 'sync' } },
      { kind: 'hardware', cmd: { kind: 'reboot' } },
    ]);
  });
  it('leaves to the sandbox any list with another command, another form or a reboot before the end', () => {
    for (const line of [
      nodeCommands.extractTar('gzip', '/mnt/dest'),
      nodeCommands.appendAuthorizedKeys(''),
      'test -f /a && tar -xf x',
      'test -e /a',
      'test -f /a -a -f /b',
      'mkdir /a',
      'mkdir -p /a /b',
      'cat /a > /b',
      'echo x > /b',
      'sync > /b',
      'reboot && sync',
      'kexec -e && sync',
      'sync && kaploy-relay --port 1 -- sh -c x',
      'test -f /a || test -f /b',
      'mkdir -p "$(dirname /a/b)" && cat > /a/b',
    ]) {
      expect(parseNativeList(line), line).toBeUndefined();
    }
    // A hardware program in an unsupported form stays an error (status 2) when the list runs.
    expect(parseNativeList('test -f /a && mount -o loop a b')?.[1]).toMatchObject({
      kind: 'hardware',
      cmd: { kind: 'unsupported' },
    });
  });
});

describe('parseSfdiskScript', () => {
  it('parses the standard layout', () => {
    const t = parseSfdiskScript(partitionScript({ swap: 1, prod: 2, deploy: 3, tmp: 5 }), '/dev/sda');
    expect(t.label).toBe('dos');
    expect(t.partitions.map((p) => [p.number, p.type, p.sizeMiB])).toEqual([
      [1, '82', 4096],
      [2, '83', 30720],
      [3, '83', 30720],
      [4, '5', undefined],
      [5, '83', undefined],
    ]);
  });
  it('accepts device names, unnamed lines and units', () => {
    const t = parseSfdiskScript('label: gpt\n/dev/sda1 : size=1G, type=L\nsize=512M, type=S\n', '/dev/sda');
    expect(t.partitions.map((p) => [p.number, p.type, p.sizeMiB])).toEqual([
      [1, '83', 1024],
      [2, '82', 512],
    ]);
  });
  it('refuses malformed scripts with the line number', () => {
    const cases: [string, RegExp][] = [
      ['1 : size=lots', /line 1: bad size/],
      ['label: sun\n1 : size=1G', /line 1: unsupported label/],
      ['1 : type=zz', /unknown partition type/],
      ['1 : colour=blue', /unexpected field/],
      ['/dev/sdb1 : size=1G', /bad partition name/],
      ['1 : size=1G\n1 : size=2G', /defined twice/],
      ['1 : size=1G\n5 : size=1G', /needs an extended partition/],
      ['1 : type=5\n2 : type=f', /more than one extended/],
      ['', /defines no partition/],
    ];
    for (const [script, re] of cases) expect(() => parseSfdiskScript(script, '/dev/sda'), script).toThrow(re);
  });
});
