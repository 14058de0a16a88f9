import { mkdtempSync, readFileSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { afterEach, describe, expect, it } from 'vitest';
import { SerialConsole } from '../../../src/testbed/node/serial-console.js';

describe('SerialConsole console.log', () => {
  const dirs: string[] = [];
  afterEach(() => {
    for (const d of dirs.splice(0)) rmSync(d, { recursive: true, force: true });
  });

  it('keeps every line, in order, across bursts and appends already in flight', async () => {
    const dir = mkdtempSync(join(tmpdir(), 'kaploy-console-'));
    dirs.push(dir);
    const c = new SerialConsole(join(dir, 'console.log'));
    const expected: string[] = [];
    for (let i = 0; i < 50; i++) {
      c.print(`a${i}`);
      expected.push(`a${i}`);
    }
    // Lines printed while the first append is running go in a later one, after it.
    await new Promise((r) => setImmediate(r));
    for (let i = 0; i < 50; i++) {
      c.print(`b${i}`);
      expected.push(`b${i}`);
    }
    await c.flush();
    c.print('last');
    expected.push('last');
    await c.flush();
    expect(readFileSync(join(dir, 'console.log'), 'utf8')).toBe(`${expected.join('\n')}\n`);
  });
});
