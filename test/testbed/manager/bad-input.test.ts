import { existsSync, mkdtempSync, rmSync, writeFileSync } from 'node:fs';
import os from 'node:os';
import path from 'node:path';
import { afterAll, describe, expect, it } from 'vitest';
import { EXIT } from '../../../src/cli/common/exit-codes.js';
import { exitCodeFor } from '../../../src/cli/common/run-cli.js';
import { type RawUpOptions, validateUpOptions } from '../../../src/testbed/manager/up-options.js';
import { kaploy } from './helpers.js';

const tmp = mkdtempSync(path.join(os.tmpdir(), 'kaploy-tb-bad-'));
afterAll(() => rmSync(tmp, { recursive: true, force: true }));

describe.concurrent('kaploy testbed up: bad input is refused with exit 3 and nothing started', () => {
  const dir = path.join(tmp, 'site');
  const cases: [string, string[], RegExp][] = [
    ['unknown option', ['--nodes', '2', '--frobnicate'], /unknown option '--frobnicate'/],
    ['missing --nodes', [], /required option '--nodes <n>'/],
    ['--nodes 0', ['--nodes', '0'], /--nodes: expected an integer from 1 to 2000, got '0'/],
    ['--nodes 2001', ['--nodes', '2001'], /--nodes: expected an integer from 1 to 2000, got '2001'/],
    ['--nodes abc', ['--nodes', 'abc'], /--nodes: expected an integer from 1 to 2000, got 'abc'/],
    ['bad site name', ['--nodes', '2', '--site', 'My_Site'], /--site: 'My_Site' is not a valid site name/],
  ];
  for (const [what, args, msg] of cases) {
    it(what, async () => {
      const r = await kaploy(['testbed', 'up', '--dir', dir, ...args]);
      expect(r.code).toBe(3);
      expect(r.stderr).toMatch(msg);
      expect(existsSync(dir)).toBe(false);
    });
  }

  it('DIR that is a file', async () => {
    const file = path.join(tmp, 'a-file');
    writeFileSync(file, 'not a directory\n');
    const r = await kaploy(['testbed', 'up', '--nodes', '2', '--dir', file]);
    expect(r.code).toBe(3);
    expect(r.stderr).toContain(`--dir ${file} exists and is not a directory`);
  });

  it('down, status, fault and console on a directory without a site', async () => {
    for (const args of [['down'], ['status'], ['fault', 'node-1.x', 'hang'], ['console', 'node-1.x']]) {
      const r = await kaploy(['testbed', ...args, '--dir', dir]);
      expect(r.code).toBe(3);
      expect(r.stderr).toContain(`no virtual site in ${dir}`);
    }
  });

  it('fault with an unknown kind or a bad node name', async () => {
    const r = await kaploy(['testbed', 'fault', '--dir', dir, 'node-1.x', 'meteor']);
    expect(r.code).toBe(3);
    expect(r.stderr).toContain('kind must be one of');
  });
});

// The same boundary without a process per case: what the CLI calls, and how runCli maps it.
describe('validateUpOptions: the other options', () => {
  const cases: [string, RawUpOptions, RegExp][] = [
    ['--nodes 2.5', { nodes: '2.5' }, /--nodes: expected an integer/],
    [
      'site name with shell characters',
      { nodes: '2', site: 'a;rm -rf' },
      /--site: .* is not a valid site name/,
    ],
    ['site name too long', { nodes: '2', site: `s${'x'.repeat(31)}` }, /--site: .* is not a valid site name/],
    [
      '--ssh-port out of range',
      { nodes: '2', sshPort: '0' },
      /--ssh-port: expected an integer from 1 to 65535/,
    ],
    ['--boot-delay negative', { nodes: '2', bootDelay: '-5' }, /--boot-delay: expected an integer/],
    ['--nic-rate too small', { nodes: '2', nicRate: '10' }, /--nic-rate: expected an integer from 1024/],
    [
      '--firmware-delay not a number',
      { nodes: '2', firmwareDelay: '2s' },
      /--firmware-delay: expected an integer from 0 to 600000/,
    ],
    [
      '--firmware-delay too long',
      { nodes: '2', firmwareDelay: '600001' },
      /--firmware-delay: expected an integer/,
    ],
    [
      '--domain with a shell character',
      { nodes: '2', domain: 'grid5000.fr;reboot' },
      /--domain: .* is not a domain name/,
    ],
    ['--domain upper case', { nodes: '2', domain: 'Grid5000.FR' }, /--domain: .* is not a domain name/],
    [
      '--domain too long',
      { nodes: '2', domain: `${'a.'.repeat(150)}fr` },
      /--domain: .* is not a domain name/,
    ],
  ];
  for (const [what, raw, msg] of cases) {
    it(what, () => {
      let err: unknown;
      try {
        validateUpOptions({ dir: path.join(tmp, 'never'), ...raw });
      } catch (e) {
        err = e;
      }
      expect((err as Error).message).toMatch(msg);
      expect(exitCodeFor(err)).toBe(EXIT.USAGE);
    });
  }
});
