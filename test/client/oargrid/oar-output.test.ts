import { mkdtempSync, rmSync, writeFileSync } from 'node:fs';
import os from 'node:os';
import path from 'node:path';
import { describe, expect, it } from 'vitest';
import { stringify } from 'yaml';
import { loadClientConfig } from '../../../src/client/client-config.js';
import {
  parseDate,
  parseOardel,
  parseOarstatState,
  parseOarsub,
  parseResourceHosts,
} from '../../../src/client/oargrid/oar-output.js';
import type { CommandResult } from '../../../src/common/run-command.js';

const res = (code: number, stdout: string, stderr = ''): CommandResult => ({
  code,
  signal: null,
  stdout,
  stderr,
  timedOut: false,
});

// Recorded from OAR 2.5.9 (scripts/setup-oar.sh), as alice.
const ADMISSION = '[ADMISSION RULE] Modify resource description with type constraints\n';

describe('OAR 2.5.9 output', () => {
  it('oarsub: a validated reservation, one refused by the scheduler, one refused at admission', () => {
    expect(
      parseOarsub(
        's',
        res(
          0,
          `${ADMISSION}OAR_JOB_ID=1\nReservation mode: waiting validation...\nReservation valid --> OK\n`,
        ),
      ),
    ).toEqual({ kind: 'reserved', jobId: 1 });
    expect(
      parseOarsub(
        's',
        res(
          10,
          `${ADMISSION}OAR_JOB_ID=2\nReservation mode: waiting validation...\nReservation not valid --> KO (Reservation too old)\n`,
        ),
      ),
    ).toEqual({ kind: 'refused', jobId: 2, reason: 'reservation not valid (Reservation too old)' });
    expect(
      parseOarsub(
        's',
        res(254, '', '[ADMISSION RULE] Error: you cannot have more than 2 waiting advance reservations.\n'),
      ),
    ).toEqual({
      kind: 'refused',
      reason: '[ADMISSION RULE] Error: you cannot have more than 2 waiting advance reservations.',
    });
    // A job made but never said valid is handed back for deletion, never taken as reserved.
    expect(parseOarsub('s', res(0, `${ADMISSION}OAR_JOB_ID=3\n`))).toMatchObject({
      kind: 'refused',
      jobId: 3,
    });
    expect(() => parseOarsub('s', res(0, 'Welcome to the frontend\n'))).toThrow(
      /site s: oarsub answered what OAR does not print/,
    );
  });
  it('oarstat -fj N -J: the state; nothing for an unknown job; garbage refused', () => {
    expect(parseOarstatState('s', 7, res(0, '{\n   "7" : {\n      "state" : "Waiting"\n   }\n}\n'))).toBe(
      'Waiting',
    );
    expect(parseOarstatState('s', 999, res(0, ''))).toBeUndefined();
    expect(() => parseOarstatState('s', 7, res(0, '{"7": {"state": "Run; rm"}}'))).toThrow(
      /answered what OAR does not print/,
    );
    expect(() => parseOarstatState('s', 7, res(0, '<html>'))).toThrow(/answered what OAR does not print/);
    expect(() => parseOarstatState('s', 7, res(255, '', 'ERROR'))).toThrow(/oarstat -fj 7 failed/);
  });
  it('oarstat -p: one host per resource line; a host that is not a name is garbage', () => {
    const line = " network_address = 'b-1.grid' , cluster = 'b' , deploy = 'YES' , cpuset = '0'\n";
    expect(parseResourceHosts('s', 3, res(0, line + line))).toEqual(['b-1.grid', 'b-1.grid']);
    expect(parseResourceHosts('s', 3, res(0, ''))).toEqual([]);
    expect(() => parseResourceHosts('s', 3, res(0, " network_address = '-oProxy' , x = '1'\n"))).toThrow(
      /does not print/,
    );
  });
  it('oardel: registered, already killed (done), wrong user (failed)', () => {
    expect(
      parseOardel(
        1,
        res(0, 'Deleting the job = 1 ...REGISTERED.\nThe job(s) [ 1 ] will be deleted in the near future.\n'),
      ),
    ).toEqual({ kind: 'deleted' });
    expect(
      parseOardel(
        1,
        res(6, 'Deleting the job = 1 ...ERROR.\n', 'Cannot frag 1 ; This job was already killed.\n'),
      ),
    ).toEqual({ kind: 'deleted' });
    expect(
      parseOardel(
        1,
        res(1, 'Deleting the job = 1 ...ERROR.\n', 'Cannot frag 1 ; You are not the right user.\n'),
      ),
    ).toEqual({
      kind: 'failed',
      reason: 'Deleting the job = 1 ...ERROR. Cannot frag 1 ; You are not the right user.',
    });
  });
  it("date '+%s %z'", () => {
    expect(parseDate('s', res(0, '1796293545 +0130\n'))).toEqual({ epochS: 1796293545, offsetMin: 90 });
    expect(parseDate('s', res(0, '1796293545 -0500\n'))).toEqual({ epochS: 1796293545, offsetMin: -300 });
    expect(() => parseDate('s', res(0, 'Thu Dec  3 10:00:00 UTC 2026\n'))).toThrow(/date answered/);
  });
});

describe('client configuration: oargrid section', () => {
  const load = (oargrid: unknown) => {
    const dir = mkdtempSync(path.join(os.tmpdir(), 'kaploy-oargrid-cfg-'));
    try {
      const file = path.join(dir, 'client.yaml');
      writeFileSync(file, stringify({ servers: { s: { url: 'http://127.0.0.1:1' } }, oargrid }));
      return loadClientConfig(file);
    } finally {
      rmSync(dir, { recursive: true, force: true });
    }
  };
  it('aliases by site, access, ssh_config beside the file, timeout in ms', () => {
    const c = load({
      aliases: {
        a: { site: 's1', cluster: 'a', access: 'local' },
        b: { site: 's2', access: 'ssh alice@fe.s2' },
      },
      ssh_config: 'ssh_config',
      command_timeout: 30,
    }).oargrid;
    expect(c?.aliases.get('b')).toEqual({ alias: 'b', site: 's2' });
    expect(c?.sites.get('s1')).toEqual({ kind: 'local' });
    expect(c?.sites.get('s2')).toMatchObject({ kind: 'ssh', host: 'alice@fe.s2' });
    expect((c?.sites.get('s2') as { configFile?: string } | undefined)?.configFile).toMatch(
      /kaploy-oargrid-cfg-.*\/ssh_config$/,
    );
    expect(c?.commandTimeoutMs).toBe(30_000);
  });
  it.each([
    [
      { aliases: { a: { site: 's', access: 'local' }, b: { site: 's', access: 'ssh fe' } } },
      /site s is reached as 'local' by another alias/,
    ],
    [
      { aliases: { a: { site: 's', access: 'ssh -oProxyCommand=sh' } } },
      /expected local or ssh \[USER@\]HOST/,
    ],
    [{ aliases: { a: { site: "s'", access: 'local' } } }, /expected a site name/],
    [{ aliases: { a: { site: 's', cluster: "a' OR 1=1", access: 'local' } } }, /expected a cluster name/],
    [{ aliases: { a: { site: 's', access: 'local', shell: 'x' } } }, /unknown key/],
    [{ aliases: {} }, /expected at least one alias/],
    [{ aliases: { a: { site: 's', access: 'local' } }, command_timeout: 1 }, /between 5 and 3600/],
  ])('refuses %j', (section, why) => {
    expect(() => load(section)).toThrow(why);
  });
});
