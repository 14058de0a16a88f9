import { execFile } from 'node:child_process';
import path from 'node:path';
import { describe, expect, it } from 'vitest';

// The built program (dist), as the other CLI tests run it: `npm run build` first.
const kaployJs = path.resolve(import.meta.dirname, '..', '..', 'dist', 'cli', 'kaploy.js');
const model = path.resolve(import.meta.dirname, '..', '..', 'docs', 'simulate-model.yaml');

function kaploy(args: string[]): Promise<{ code: number; stdout: string; stderr: string }> {
  return new Promise((resolve) => {
    execFile(process.execPath, [kaployJs, ...args], { timeout: 120_000 }, (err, stdout, stderr) => {
      resolve({ code: err ? (typeof err.code === 'number' ? err.code : 99) : 0, stdout, stderr });
    });
  });
}

describe('kaploy simulate (CLI)', () => {
  it('--help explains the model and the file format with an example', async () => {
    const r = await kaploy(['simulate', '--help']);
    expect(r.code).toBe(0);
    expect(r.stdout).toMatch(/discrete-event clock/);
    expect(r.stdout).toMatch(/faulty_nodes:/);
    expect(r.stdout).toMatch(/--compare <axis=values>/);
  });

  it('prints the prediction as JSON for a generated site', async () => {
    const r = await kaploy(['simulate', '--nodes', '6', '--clusters', '2', '--model', model, '--json']);
    expect(r.code).toBe(0);
    const out = JSON.parse(r.stdout) as { nodes: number; totalS: number; macros: { macro: string }[] };
    expect(out.nodes).toBe(6);
    expect(out.totalS).toBeGreaterThan(0);
    expect(out.macros.map((m) => m.macro)).toEqual(['SetDeploymentEnv', 'BroadcastEnv', 'BootNewEnv']);
  });

  it('compares variants in a table, one row each', async () => {
    const r = await kaploy([
      'simulate',
      '--nodes',
      '4',
      '--compare',
      'broadcast=chain,tree',
      '--compare',
      'boot=kexec,classical',
    ]);
    expect(r.code).toBe(0);
    const rows = r.stdout.trim().split('\n');
    expect(rows[0]).toMatch(/^variant\s+total s/);
    expect(rows.slice(1).map((l) => l.split(/\s{2,}/)[0])).toEqual([
      'broadcast=chain boot=kexec',
      'broadcast=chain boot=classical',
      'broadcast=tree boot=kexec',
      'broadcast=tree boot=classical',
    ]);
  });

  it('refuses a bad axis and a missing site with a usage error', async () => {
    const a = await kaploy(['simulate', '--nodes', '4', '--compare', 'colour=red']);
    expect(a.code).not.toBe(0);
    expect(a.stderr).toMatch(/--compare: unknown axis 'colour'.*KAPLOY_OPTION/);
    const b = await kaploy(['simulate']);
    expect(b.code).not.toBe(0);
    expect(b.stderr).toMatch(/give either --site FILE or --nodes N/);
  });
});
