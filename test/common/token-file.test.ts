import { chmodSync, mkdtempSync, rmSync, writeFileSync } from 'node:fs';
import os from 'node:os';
import path from 'node:path';
import { afterAll, describe, expect, it } from 'vitest';
import { readToken } from '../../src/common/token-file.js';

const dirs: string[] = [];
const tmp = () => {
  const d = mkdtempSync(path.join(os.tmpdir(), 'kaploy-token-'));
  dirs.push(d);
  return d;
};
afterAll(() => {
  for (const d of dirs) rmSync(d, { recursive: true, force: true });
});

/** The token file rule of every process that talks to the engine (commands, hooks, the virtual site). */
describe('readToken', () => {
  it('refuses a token file that others can read, like ssh', () => {
    const d = tmp();
    const f = path.join(d, 'token');
    writeFileSync(f, 'abcdefghijklmnopqrstuvwxyz012345\n');
    chmodSync(f, 0o644);
    expect(() => readToken(f)).toThrow(/readable by others .* chmod 600/);
    chmodSync(f, 0o600);
    expect(readToken(f)).toBe('abcdefghijklmnopqrstuvwxyz012345');
    writeFileSync(f, 'short');
    expect(() => readToken(f)).toThrow(/does not hold a valid token/);
    expect(() => readToken(path.join(d, 'none'))).toThrow(/no credentials/);
  });
});
