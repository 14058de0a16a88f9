import { existsSync, mkdirSync } from 'node:fs';
import os from 'node:os';
import path from 'node:path';
import { afterEach, describe, expect, it, vi } from 'vitest';
import { setup } from './temp-dirs.js';

/** The run's temporary-directory check, on a root of its own inside this run's. */
describe('temporary entries left by a run', () => {
  const outer = process.env.TMPDIR;
  const exitCode = process.exitCode;
  afterEach(() => {
    process.exitCode = exitCode;
    vi.restoreAllMocks();
  });

  it('nothing left: the root is removed, TMPDIR restored, the exit code untouched', () => {
    const teardown = setup();
    const root = os.tmpdir();
    expect(root).not.toBe(outer);
    expect(path.basename(root)).toMatch(/^kaploy-test-run-/);
    teardown();
    expect(existsSync(root)).toBe(false);
    expect(process.env.TMPDIR).toBe(outer);
    expect(process.exitCode).toBe(exitCode);
  });

  it('an entry left: named with its size on stderr, exit code 1, removed anyway', () => {
    const stderr = vi.spyOn(process.stderr, 'write').mockImplementation(() => true);
    const teardown = setup();
    const root = os.tmpdir();
    mkdirSync(path.join(root, 'kaploy-vnode-leak'));
    teardown();
    expect(process.exitCode).toBe(1);
    expect(String(stderr.mock.calls[0]?.[0])).toMatch(
      /a fixture did not remove what it created\):\n {2}kaploy-vnode-leak \(\S+\)\n/,
    );
    expect(existsSync(root)).toBe(false);
    expect(process.env.TMPDIR).toBe(outer);
  });
});
