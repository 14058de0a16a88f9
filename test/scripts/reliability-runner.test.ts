import { execFile } from 'node:child_process';
import { mkdtempSync, rmSync, writeFileSync } from 'node:fs';
import os from 'node:os';
import path from 'node:path';
import { promisify } from 'node:util';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
// @ts-expect-error: a plain .mjs test-tool module, without types
import { internalErrorLines } from '../../scripts/reliability/lib/site.mjs';

/**
 * scripts/reliability/run.mjs with scenario modules of the test's own (--scenarios DIR): the table
 * as printed, and the exit code when a scenario fails a run, loses data, leaves a node stuck, meets
 * an internal error, returns malformed counts or throws.
 */
const RUNNER = path.resolve(import.meta.dirname, '../../scripts/reliability/run.mjs');
let dir: string;

const scenario = (name: string, body: string) =>
  writeFileSync(
    path.join(dir, `${name}.mjs`),
    `export default { name: '${name}', async run(o) { ${body} } };\n`,
  );

const run = (args: string[]) =>
  promisify(execFile)(process.execPath, [RUNNER, '--scenarios', dir, ...args]).then(
    (r) => ({ code: 0, ...r }),
    (e: { code: number; stdout: string; stderr: string }) => e,
  );

beforeAll(() => {
  dir = mkdtempSync(path.join(os.tmpdir(), 'kaploy-reliability-test-'));
  scenario(
    'clean',
    "o.log('short=' + o.short); return { runs: 4, passed: 4, dataLost: 0, stuckNodes: 0, internalErrors: 0, enginePeakMiB: 123.4, notes: 'a|b' };",
  );
  scenario('failed-run', 'return { runs: 3, passed: 2, dataLost: 0, stuckNodes: 0, internalErrors: 0 };');
  scenario('lost', 'return { runs: 1, passed: 1, dataLost: 1, stuckNodes: 0, internalErrors: 0 };');
  scenario('stuck', 'return { runs: 1, passed: 1, dataLost: 0, stuckNodes: 2, internalErrors: 0 };');
  scenario('internal', 'return { runs: 1, passed: 1, dataLost: 0, stuckNodes: 0, internalErrors: 1 };');
  scenario('malformed', "return { runs: 1, passed: '1' };");
  scenario('none', 'return { runs: 0, passed: 0, dataLost: 0, stuckNodes: 0, internalErrors: 0 };');
  scenario('throws', "throw new Error('the site did not start');");
});
afterAll(() => rmSync(dir, { recursive: true, force: true }));

describe('npm run reliability (scripts/reliability/run.mjs)', () => {
  it('prints one row per scenario and exits 0 when every scenario passed cleanly', async () => {
    const r = await run(['--only', 'clean', '--short']);
    expect(r.code).toBe(0);
    expect(r.stdout).toMatch(
      /^reliability --short: 1 scenarios in \d+ s, load average [\d.]+ [\d.]+ [\d.]+ at the end$/m,
    );
    expect(r.stdout).toContain(
      '| scenario | runs | passed | data lost | stuck nodes | internal errors | engine peak MiB | time s | result | notes |',
    );
    expect(r.stdout).toMatch(/^\| clean \| 4 \| 4 \| 0 \| 0 \| 0 \| 123 \| \d+ \| ok \| a\\\|b \|$/m);
    expect(r.stderr).toContain('[clean] short=true');
  });

  it.each([
    ['failed-run', /^\| failed-run \| 3 \| 2 \| 0 \| 0 \| 0 \| - \| \d+ \| FAIL \|/m],
    ['lost', /^\| lost \| 1 \| 1 \| 1 \| 0 \| 0 \| - \| \d+ \| FAIL \|/m],
    ['stuck', /^\| stuck \| 1 \| 1 \| 0 \| 2 \| 0 \| - \| \d+ \| FAIL \|/m],
    ['internal', /^\| internal \| 1 \| 1 \| 0 \| 0 \| 1 \| - \| \d+ \| FAIL \|/m],
    ['malformed', /^\| malformed \| 1 \| NaN \| 0 \| 0 \| 0 \| - \| \d+ \| FAIL \|/m],
    ['none', /^\| none \| 0 \| 0 \| 0 \| 0 \| 0 \| - \| \d+ \| FAIL \|/m],
    [
      'throws',
      /^\| throws \| 1 \| 0 \| 0 \| 0 \| 0 \| - \| \d+ \| FAIL \| threw: the site did not start \|$/m,
    ],
  ])('exits 1 and marks the row FAIL when scenario %s does', async (name, row) => {
    const r = await run(['--only', `clean,${name}`]);
    expect(r.code).toBe(1);
    expect(r.stdout).toMatch(row);
    expect(r.stdout).toMatch(/^\| clean \| .* \| ok \|/m);
    expect(r.stdout).toContain(`FAILED: ${name}\n`);
  });

  it('runs every scenario of the folder without --only, and fails if one of them fails', async () => {
    const r = await run([]);
    expect(r.code).toBe(1);
    expect(r.stdout).toContain('reliability (full): 8 scenarios');
    expect(r.stdout).toContain('FAILED: failed-run, internal, lost, malformed, none, stuck, throws\n');
  });

  it('refuses an unknown scenario or argument with exit 2, running nothing', async () => {
    const r = await run(['--only', 'nope']);
    expect(r.code).toBe(2);
    expect(r.stderr).toContain('unknown scenario nope: one of clean, failed-run,');
    const bad = await run(['--frobnicate']);
    expect(bad.code).toBe(2);
    expect(bad.stderr).toContain("unknown argument '--frobnicate'");
  });
});

describe('internal errors in an engine log', () => {
  it('counts error lines naming KAPLOY_INTERNAL and crashes of the process, not other errors', () => {
    const log = [
      JSON.stringify({ level: 30, msg: 'deployment started' }),
      JSON.stringify({
        level: 50,
        err: { code: 'KAPLOY_INTERNAL' },
        msg: 'internal error in the kaploy server',
      }),
      JSON.stringify({ level: 50, msg: 'unexpected error' }),
      JSON.stringify({ level: 40, msg: 'KAPLOY_INTERNAL mentioned at warn level' }),
      JSON.stringify({ level: 50, err: { code: 'KAPLOY_NODE' }, msg: 'node failed' }),
      'node:internal/process/promises:391',
      '    triggerUncaughtException(err, true /* fromPromise */);',
      'FATAL ERROR: Reached heap limit Allocation failed - JavaScript heap out of memory',
      '',
    ].join('\n');
    expect(internalErrorLines(log)).toHaveLength(4);
  });
});
