import { mkdtempSync, readFileSync, rmSync } from 'node:fs';
import os from 'node:os';
import path from 'node:path';
import ssh2 from 'ssh2';
import { describe, expect, it } from 'vitest';
import { nodeAddress, planNodes, siteByte } from '../../../src/testbed/manager/addresses.js';
import { escapeFilter } from '../../../src/testbed/manager/console-client.js';
import { parseFault } from '../../../src/testbed/manager/fault-parse.js';
import { ensureHostKeys } from '../../../src/testbed/manager/keys.js';
import { testbedLayout } from '../../../src/testbed/manager/layout.js';
import { validateUpOptions } from '../../../src/testbed/manager/up-options.js';

describe('addresses', () => {
  it('puts 250 nodes per /24 under a site byte from 10 to 250', () => {
    const b = siteByte('vsite');
    expect(b).toBeGreaterThanOrEqual(10);
    expect(b).toBeLessThanOrEqual(250);
    expect(siteByte('vsite')).toBe(b);
    expect(nodeAddress(b, 1)).toBe(`127.${b}.0.1`);
    expect(nodeAddress(b, 250)).toBe(`127.${b}.0.250`);
    expect(nodeAddress(b, 251)).toBe(`127.${b}.1.1`);
    const all = planNodes('vsite', 1000);
    expect(new Set(all.map((n) => n.address)).size).toBe(1000);
    expect(all[999]).toEqual({ index: 1000, name: 'node-1000.vsite', address: `127.${b}.3.250` });
  });
});

describe('validateUpOptions', () => {
  it('normalises defaults', () => {
    expect(validateUpOptions({ nodes: '5', dir: '/nonexistent/x' })).toEqual({
      nodes: 5,
      site: 'vsite',
      dir: '/nonexistent/x',
      bootDelayMs: 200,
      sshPort: 22,
    });
  });
  it('refuses a missing node count with its own code', () => {
    expect(() => validateUpOptions({})).toThrow(expect.objectContaining({ code: 'KAPLOY_MISSING_OPTION' }));
  });
});

describe('parseFault', () => {
  it('accepts each kind with its parameters', () => {
    expect(parseFault({ kind: 'drop_connection', afterBytes: 1000, when: 'tar' })).toEqual({
      kind: 'drop_connection',
      afterBytes: 1000,
      when: 'tar',
    });
    expect(parseFault({ kind: 'slow_disk', bytesPerSec: 1e6 })).toEqual({
      kind: 'slow_disk',
      bytesPerSec: 1e6,
    });
    expect(parseFault({ kind: 'power_loss', times: 1 })).toEqual({ kind: 'power_loss', times: 1 });
  });
  it.each([
    [null, 'expected a JSON object'],
    [[], 'expected a JSON object'],
    [{ kind: 'hang', extraMs: 5 }, 'extraMs does not apply to hang'],
    [{ kind: 'hang', times: 0 }, 'times must be an integer >= 1'],
    [{ kind: 'hang', colour: 'red' }, "unknown field 'colour'"],
    [{ kind: 'slow_disk' }, 'slow_disk needs bytesPerSec'],
    [{ kind: 'hang', when: '[' }, 'not a valid regular expression'],
  ])('refuses %j', (v, msg) => {
    expect(() => parseFault(v)).toThrow(msg);
  });
});

describe('console escape', () => {
  it('closes on ~. at line start only, and passes ~~ as ~', () => {
    const f = escapeFilter();
    expect(f(Buffer.from('a~.b'))).toEqual({ send: Buffer.from('a~.b'), close: false });
    expect(f(Buffer.from('\r~~x\n'))).toEqual({ send: Buffer.from('\r~x\n'), close: false });
    expect(f(Buffer.from('~'))).toEqual({ send: Buffer.alloc(0), close: false });
    expect(f(Buffer.from('.'))).toEqual({ send: Buffer.alloc(0), close: true });
  });
});

describe('host keys', () => {
  it('every host key of a 500-node site reads back (ssh2 generates a malformed one now and then)', async () => {
    const dir = mkdtempSync(path.join(os.tmpdir(), 'kaploy-keys-'));
    try {
      const l = testbedLayout(dir);
      const nodes = planNodes('keys', 500);
      const pubs = await ensureHostKeys(l, nodes);
      for (const n of nodes) {
        const k = ssh2.utils.parseKey(readFileSync(path.join(l.hostKeysDir, n.name)));
        expect(k instanceof Error ? k.message : `${k.type} ${k.getPublicSSH().toString('base64')}`).toBe(
          pubs.get(n.name),
        );
      }
      // Kept across runs: known_hosts stays valid.
      const again = await ensureHostKeys(l, nodes.slice(0, 3));
      expect(again.get(nodes[0]?.name as string)).toBe(pubs.get(nodes[0]?.name as string));
    } finally {
      rmSync(dir, { recursive: true, force: true });
    }
  });
});
