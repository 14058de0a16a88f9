import { mkdtempSync, rmSync, writeFileSync } from 'node:fs';
import os from 'node:os';
import path from 'node:path';
import { afterAll, describe, expect, it } from 'vitest';
import { hooksConfigFile, loadHooksConfig, RESTORE_DEFAULTS } from '../../src/common/hooks-config.js';

const dir = mkdtempSync(path.join(os.tmpdir(), 'kaploy-oar-config-'));
afterAll(() => rmSync(dir, { recursive: true, force: true }));
let n = 0;
function file(text: string): string {
  const f = path.join(dir, `c${n++}.yaml`);
  writeFileSync(f, text);
  return f;
}
const MIN = 'engine_url: http://127.0.0.1:25300/\nadmin_token_file: /etc/kaploy/oar-admin.token\n';

describe('OAR hooks configuration', () => {
  it('fills defaults from the two required keys (times in ms)', () => {
    const f = file(MIN);
    expect(loadHooksConfig(f)).toEqual({
      file: f,
      engineUrl: 'http://127.0.0.1:25300',
      adminTokenFile: '/etc/kaploy/oar-admin.token',
      partitions: ['/dev/sda3'],
      productionEnv: '',
      deadlineMs: 45_000,
      requestTimeoutMs: 10_000,
      grantRetryMs: 15_000,
      commandTimeoutMs: 20_000,
      spoolDir: '/var/lib/kaploy/oar-spool',
      oarstat: '/usr/bin/oarstat',
      oarnodesetting: '/usr/sbin/oarnodesetting',
      restore: RESTORE_DEFAULTS,
    });
  });
  it('reads every key', () => {
    const c = loadHooksConfig(
      file(`${MIN}partitions: [3, '*']
production_env: debian12-std
deadline_seconds: 30
request_timeout_seconds: 2.5
grant_retry_seconds: 0
command_timeout_seconds: 5
spool_dir: /var/spool/kaploy
oarstat: /opt/oar/bin/oarstat
oarnodesetting: /opt/oar/sbin/oarnodesetting
restore:
  concurrency: 4
  group_max: 64
  max_attempts: 3
  retry_delay_seconds: 1
  node_timeout_seconds: 900
  command_timeout_seconds: 3
  alive_command: [/opt/oar/sbin/oarnodesetting, -s, Alive, -h, '{node}']
  alive_batch: 20
  hold_commands: [[/opt/oar/sbin/oarnodesetting, -s, Absent, -h, '{node}']]
`),
    );
    expect(c).toMatchObject({
      partitions: ['3', '*'],
      productionEnv: 'debian12-std',
      deadlineMs: 30_000,
      requestTimeoutMs: 2_500,
      grantRetryMs: 0,
    });
    expect(c.restore).toEqual({
      concurrency: 4,
      groupMax: 64,
      maxAttempts: 3,
      retryDelayMs: 1000,
      nodeTimeoutMs: 900_000,
      commandTimeoutMs: 3000,
      aliveCommand: ['/opt/oar/sbin/oarnodesetting', '-s', 'Alive', '-h', '{node}'],
      aliveBatch: 20,
      holdCommands: [['/opt/oar/sbin/oarnodesetting', '-s', 'Absent', '-h', '{node}']],
    });
  });
  it('KAPLOY_OAR_HOOKS_CONFIG overrides the default file', () => {
    expect(hooksConfigFile({})).toBe('/etc/kaploy/oar-hooks.yaml');
    expect(hooksConfigFile({ KAPLOY_OAR_HOOKS_CONFIG: '/tmp/x.yaml' })).toBe('/tmp/x.yaml');
  });
  it('a missing file', () => {
    expect(() => loadHooksConfig(path.join(dir, 'nope.yaml'))).toThrow(
      `cannot read the OAR hooks configuration ${dir}/nope.yaml: ENOENT`,
    );
  });
  it.each([
    ['not YAML', 'engine_url: [unclosed', 'not valid YAML'],
    ['not a mapping', '- a\n- b\n', '(top level): expected a mapping'],
    ['an empty file', '', '(top level): expected a mapping'],
    ['no engine_url', 'admin_token_file: /t\n', 'engine_url: missing (required)'],
    [
      'a bad URL',
      'engine_url: localhost:25300\nadmin_token_file: /t\n',
      "engine_url: 'localhost:25300': expected an http:// or https:// URL",
    ],
    [
      'a relative token path',
      'engine_url: http://h:1\nadmin_token_file: token\n',
      "admin_token_file: 'token': expected an absolute path",
    ],
    ['an unknown key', `${MIN}deadline: 3\n`, 'deadline: unknown key'],
    [
      'a deadline too long',
      `${MIN}deadline_seconds: 7200\n`,
      'deadline_seconds: expected a number of seconds from 1 to 3600',
    ],
    [
      'a deadline as text',
      `${MIN}deadline_seconds: '45'\n`,
      'deadline_seconds: expected a number of seconds',
    ],
    [
      'a request timeout above the deadline',
      `${MIN}deadline_seconds: 5\nrequest_timeout_seconds: 6\n`,
      'request_timeout_seconds: must be below deadline_seconds',
    ],
    [
      'a bad partition',
      `${MIN}partitions: ['/dev/sda3;x']\n`,
      "partitions[0]: '/dev/sda3;x': expected /dev/NAME",
    ],
    [
      'a bad production name',
      `${MIN}production_env: 'a b'\n`,
      "production_env: 'a b': not an environment name",
    ],
    ['a relative oarstat', `${MIN}oarstat: oarstat\n`, "oarstat: 'oarstat': expected an absolute path"],
    ['an unknown restore key', `${MIN}restore: {retries: 2}\n`, 'restore.retries: unknown key'],
    [
      'a restore command without {node}',
      `${MIN}restore: {alive_command: [/usr/sbin/oarnodesetting, -s, Alive]}\n`,
      'restore.alive_command: must contain {node}',
    ],
    [
      'a put-back command that cannot be repeated per node, batched',
      `${MIN}restore: {alive_command: [/usr/bin/ssh, oar, 'oarnodesetting -s Alive -h {node}']}\n`,
      'restore.alive_command: {node} must be a word of its own to be repeated for several nodes (or set restore.alive_batch: 1)',
    ],
    [
      'a zero put-back batch',
      `${MIN}restore: {alive_batch: 0}\n`,
      'restore.alive_batch: expected an integer from 1',
    ],
    [
      'a relative restore program',
      `${MIN}restore: {hold_commands: [[oarnodesetting, '{node}']]}\n`,
      'restore.hold_commands[0][0]: the program must be an absolute path',
    ],
    ['a zero group size', `${MIN}restore: {group_max: 0}\n`, 'restore.group_max: expected an integer from 1'],
    [
      'zero concurrency',
      `${MIN}restore: {concurrency: 0}\n`,
      'restore.concurrency: expected an integer from 1',
    ],
    [
      'an unknown key, near miss',
      `${MIN}deadline_second: 30\n`,
      'deadline_second: unknown key; did you mean deadline_seconds? (known: engine_url,',
    ],
    [
      'an unknown restore key, near miss',
      `${MIN}restore: {alive_bacth: 3}\n`,
      'restore.alive_bacth: unknown key; did you mean alive_batch?',
    ],
    [
      'a wrong type, with its line',
      `${MIN}restore:\n  concurrency: many\n`,
      'restore.concurrency: expected an integer (line 4)',
    ],
    ['a list of the wrong type', `${MIN}partitions: /dev/sda3\n`, 'partitions: expected a list (line 3)'],
    [
      'out of range, with its line',
      `${MIN}restore:\n  max_attempts: 101\n`,
      'restore.max_attempts: expected an integer from 1 to 100 (line 4)',
    ],
    [
      'a command timeout above the deadline',
      `${MIN}deadline_seconds: 15\ncommand_timeout_seconds: 20\n`,
      'command_timeout_seconds: must be below deadline_seconds (line 4)',
    ],
  ])('refuses %s, naming file and key', (_what, text, message) => {
    const f = file(text);
    expect(() => loadHooksConfig(f)).toThrow(`${f}: `);
    expect(() => loadHooksConfig(f)).toThrow(message);
  });
});
