import { writeFileSync } from 'node:fs';
import { join } from 'node:path';
import type { Duplex } from 'node:stream';
import { afterEach, beforeEach, describe, expect, it } from 'vitest';
import { renderProfile } from '../../../src/formats/pxe-profile.js';
import { makeSite, nodeOptions, type Site, VirtualNode, waitState } from './fixtures.js';

/** Collects console output and resolves once it contains `text` (counting from `from`). */
function reader(con: Duplex) {
  let out = '';
  const waiters: { text: string; from: number; resolve: (s: string) => void }[] = [];
  con.on('data', (d: Buffer) => {
    out += d.toString();
    for (const w of [...waiters]) {
      if (out.indexOf(w.text, w.from) >= 0) {
        waiters.splice(waiters.indexOf(w), 1);
        w.resolve(out);
      }
    }
  });
  return {
    get text() {
      return out;
    },
    until(text: string, from = 0): Promise<string> {
      if (out.indexOf(text, from) >= 0) return Promise.resolve(out);
      return new Promise((resolve) => waiters.push({ text, from, resolve }));
    },
  };
}

describe('serial console', () => {
  let site: Site;
  let node: VirtualNode;
  beforeEach(() => {
    site = makeSite();
  });
  afterEach(async () => {
    await node?.stop();
    site.cleanup();
  });

  it('shows the boot, then a login prompt; root gets a shell of the booted system even when SSH hangs', async () => {
    const o = nodeOptions(site, 'node-1.console');
    node = new VirtualNode(o);
    node.injectFault({ kind: 'hang', when: 'boot' });
    await node.start();
    const con = node.openConsole();
    const r = reader(con);
    await r.until('node-1.console login: ');
    expect(r.text).toContain('PXELINUX: loading pxelinux.cfg/(none)');
    con.write('guest\n');
    await r.until('Login incorrect');
    const mark = r.text.length;
    con.write('root\n');
    con.write('cat /etc/hostname; echo "exit=$?"\n');
    await r.until('exit=0', mark);
    expect(r.text.slice(mark)).toContain('prod\n');
    con.write('exit\n');
    await r.until('login: ', mark + 1);
    con.destroy();
    // A second viewer attached later sees the recent boot messages.
    const again = reader(node.openConsole());
    await again.until('login: ');
    expect(again.text).toContain('ttyS0 (production)');
  });

  it('a failed boot says why and offers no login', async () => {
    writeFileSync(join(site.bootDir, 'default'), renderProfile({ kind: 'local', partition: 3 }));
    node = new VirtualNode(nodeOptions(site, 'node-2.console'));
    await node.start();
    await waitState(node, 'boot_failed');
    const r = reader(node.openConsole());
    await r.until('GRUB: /dev/sda3: unknown filesystem');
    node.openConsole().write('root\n');
    expect(r.text).not.toContain('login:');
  });
});

describe('node options are validated where they enter', () => {
  let site: Site;
  beforeEach(() => {
    site = makeSite();
  });
  afterEach(() => site.cleanup());
  it('refuses bad names, addresses, ports, keys, devices, partitions and rates', () => {
    const base = nodeOptions(site, 'node-1.opts');
    const cases: [Partial<typeof base>, RegExp][] = [
      [{ name: 'bad name;rm' }, /invalid host name/],
      [{ address: '10.0.0.1' }, /not an IPv4 loopback/],
      [{ address: '127.0.0' }, /not an IPv4 loopback/],
      [{ sshPort: 70000 }, /invalid SSH port/],
      [{ markerPort: base.sshPort }, /invalid marker port/],
      [{ hostKey: Buffer.from('nope') }, /hostKey/],
      [{ engineKey: 'ssh-ed25519 AAAA' }, /engineKey/],
      [{ productionImage: 'relative.tgz' }, /absolute/],
      [{ partitioning: { ...base.partitioning, blockDevice: '/dev/../etc/sda' } }, /block device/],
      [{ partitioning: { ...base.partitioning, tmp: 2 } }, /partition numbers/],
      [{ partitioning: { ...base.partitioning, tmp: 4 } }, /partition numbers/],
      [{ hardware: { bootDelayMs: -1 } }, /bootDelayMs/],
      [{ hardware: { bootDelayMs: 1, nicBytesPerSec: 0 } }, /rates/],
      [{ pxeFileNaming: 'mac' as never }, /PXE file naming/],
    ];
    for (const [over, re] of cases)
      expect(() => new VirtualNode({ ...base, ...over }), JSON.stringify(over)).toThrow(re);
  });
  it('a missing production image fails start() with a file error', async () => {
    const node = new VirtualNode(
      nodeOptions(site, 'node-2.opts', { productionImage: join(site.dir, 'missing.tgz') }),
    );
    await expect(node.start()).rejects.toMatchObject({ code: 'KAPLOY_FILE' });
    await expect(node.powerOn()).rejects.toMatchObject({ code: 'KAPLOY_INTERNAL' });
  });
});
