import { mkdtempSync, rmSync, writeFileSync } from 'node:fs';
import os from 'node:os';
import path from 'node:path';
import { afterAll, describe, expect, it } from 'vitest';
import { nodeOpExitCode } from '../../src/cli/common/node-op-exit.js';
import { clientConfigPath, loadClientConfig } from '../../src/client/client-config.js';
import { kadeployExitCodes, progressWanted } from '../../src/client/terminal-settings.js';

const dir = mkdtempSync(path.join(os.tmpdir(), 'kaploy-term-'));
afterAll(() => rmSync(dir, { recursive: true, force: true }));
const SERVERS = 'servers:\n  a: { url: "http://127.0.0.1:1" }\n';
const config = (name: string, extra: string) => {
  const f = path.join(dir, name);
  writeFileSync(f, `${extra}${SERVERS}`);
  return f;
};
const tty = { isTTY: true };

describe('client configuration: where it is read from', () => {
  it('$KAPLOY_CLIENT_CONFIG, else ~/.kaploy/client.yaml, else the site-wide /etc/kaploy/client.yaml', () => {
    const user = path.join(os.homedir(), '.kaploy', 'client.yaml');
    const sys = '/etc/kaploy/client.yaml';
    expect(clientConfigPath({ KAPLOY_CLIENT_CONFIG: '/x.yaml' }, () => true)).toBe('/x.yaml');
    expect(clientConfigPath({}, (p) => p === user || p === sys)).toBe(user);
    expect(clientConfigPath({}, (p) => p === sys)).toBe(sys);
    // Neither exists: the user's path, which the "cannot read" error then names.
    expect(clientConfigPath({}, () => false)).toBe(user);
  });
});

describe('the live progress line', () => {
  const on = { TERM: 'xterm-256color', KAPLOY_CLIENT_CONFIG: config('plain.yaml', '') };
  it('is drawn only on a terminal whose TERM is set and not dumb', () => {
    expect(progressWanted(tty, on)).toBe(true);
    expect(progressWanted({ isTTY: false }, on)).toBe(false);
    expect(progressWanted({}, on)).toBe(false);
    expect(progressWanted(tty, { ...on, TERM: 'dumb' })).toBe(false);
    expect(progressWanted(tty, { KAPLOY_CLIENT_CONFIG: on.KAPLOY_CLIENT_CONFIG })).toBe(false);
  });
  it('is switched off by $KAPLOY_PROGRESS=0 or progress: false, and back on by the variable', () => {
    for (const v of ['0', 'off', 'false', 'no'])
      expect(progressWanted(tty, { ...on, KAPLOY_PROGRESS: v })).toBe(false);
    const off = { TERM: 'xterm', KAPLOY_CLIENT_CONFIG: config('off.yaml', 'progress: false\n') };
    expect(progressWanted(tty, off)).toBe(false);
    expect(progressWanted(tty, { ...off, KAPLOY_PROGRESS: '1' })).toBe(true);
  });
  it('refuses a progress value that is not a boolean, with the file and key', () => {
    const f = config('bad.yaml', 'progress: sometimes\n');
    expect(() => loadClientConfig(f)).toThrow(/progress.*expected true or false/);
  });
});

describe("Kadeploy's exit codes", () => {
  const kaploy = { KAPLOY_CLIENT_CONFIG: config('k.yaml', '') };
  const kadeploy = { KAPLOY_CLIENT_CONFIG: config('kd.yaml', 'exit_codes: kadeploy\n') };
  it('exit_codes: kadeploy or $KAPLOY_EXIT_CODES=kadeploy make an operation that ran exit 0', () => {
    expect(nodeOpExitCode(['ok', 'ko'], kaploy)).toBe(1);
    expect(nodeOpExitCode(['ko'], kaploy)).toBe(2);
    expect(nodeOpExitCode(['ok', 'ko'], kadeploy)).toBe(0);
    expect(nodeOpExitCode(['ko', 'ko'], kadeploy)).toBe(0);
    expect(nodeOpExitCode(['ko'], { ...kaploy, KAPLOY_EXIT_CODES: 'kadeploy' })).toBe(0);
    expect(nodeOpExitCode(['ko'], { ...kadeploy, KAPLOY_EXIT_CODES: 'kaploy' })).toBe(2);
    expect(kadeployExitCodes(kaploy)).toBe(false);
    // Stopped at the breakpoint asked, nothing failed: 9 (Kadeploy: 0); with a KO node: 1 as usual.
    expect(nodeOpExitCode(['breakpoint', 'ok'], kaploy)).toBe(9);
    expect(nodeOpExitCode(['breakpoint', 'ko'], kaploy)).toBe(1);
    expect(nodeOpExitCode(['breakpoint'], kadeploy)).toBe(0);
  });
  it('refuses an unknown exit_codes value', () => {
    expect(() => loadClientConfig(config('bad2.yaml', 'exit_codes: posix\n'))).toThrow(
      /expected kaploy or kadeploy/,
    );
  });
});
