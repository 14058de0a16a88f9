import { execFile } from 'node:child_process';
import path from 'node:path';
import { promisify } from 'node:util';
import { describe, expect, it } from 'vitest';

const RUNNER = path.resolve(import.meta.dirname, '../../bench/run.mjs');
const run = (args: string[]) =>
  promisify(execFile)(process.execPath, [RUNNER, ...args]).then(
    (r) => ({ code: 0, ...r }),
    (e: { code: number; stdout: string; stderr: string }) => e,
  );

describe('npm run bench (bench/run.mjs)', () => {
  it('lists the benchmarks with their header, not the helpers other benches spawn', async () => {
    const r = await run([]);
    expect(r.code).toBe(0);
    for (const name of ['deploy-scale', 'oar-hooks', 'testbed-ssh', 'kastat-export'])
      expect(r.stdout).toMatch(new RegExp(`^  ${name} +\\S`, 'm'));
    expect(r.stdout).not.toContain('kastat-export-lib');
    expect(r.stdout).not.toMatch(/^ {2}run /m);
  });

  it('refuses an unknown benchmark with exit 2 and the list of names', async () => {
    const r = await run(['no-such-bench']);
    expect(r.code).toBe(2);
    expect(r.stderr).toContain("unknown benchmark 'no-such-bench': one of broadcast-chain,");
  });
});
