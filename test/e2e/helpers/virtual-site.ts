import { execFile } from 'node:child_process';
import { mkdtempSync, readFileSync, rmSync } from 'node:fs';
import os from 'node:os';
import path from 'node:path';
import { testbedDown, testbedUp } from '../../../src/testbed/index.js';

/**
 * A real virtual site for end-to-end tests: nodes (daemon), engine (kaploy server) and the real
 * commands (dist/cli/*.js, built once per run by test/global/build-dist.ts), run as the users the
 * site enrolled. The site's directory is removed by down(), and at once when the site fails to start.
 */
export interface Site {
  dir: string;
  nodes: string[];
  run(
    cmd: string,
    args: string[],
    o?: { user?: string; input?: string; env?: NodeJS.ProcessEnv },
  ): Promise<RunResult>;
  sh(script: string, o?: { user?: string }): Promise<RunResult>;
  disk(node: string, part: number, file: string): string;
  down(): Promise<void>;
}
export interface RunResult {
  code: number;
  stdout: string;
  stderr: string;
}

const root = path.resolve(import.meta.dirname, '..', '..', '..');
export const cli = (name: string) => path.join(root, 'dist', 'cli', `${name}.js`);

export async function startSite(o: { nodes: number; site: string; bootDelayMs?: number }): Promise<Site> {
  const dir = mkdtempSync(path.join(os.tmpdir(), `kaploy-e2e-${o.site}-`));
  try {
    await testbedUp({ nodes: o.nodes, site: o.site, dir, bootDelay: o.bootDelayMs ?? 50 });
  } catch (e) {
    // Whatever started is stopped; the start's own error is the one worth reporting.
    await removeSite(dir).catch(() => undefined);
    throw e;
  }
  const nodes = readFileSync(path.join(dir, 'nodes'), 'utf8').trim().split('\n');
  const baseEnv = (user?: string): NodeJS.ProcessEnv => ({
    ...process.env,
    KAPLOY_CLIENT_CONFIG: path.join(dir, 'client.yaml'),
    KAPLOY_TOKEN_FILE: path.join(dir, 'tokens', user ?? os.userInfo().username),
    KAPLOY_NODEFILE: path.join(dir, 'nodes'),
    PATH: `${path.join(dir, 'bin')}:${process.env.PATH}`,
  });
  const exec = (file: string, args: string[], env: NodeJS.ProcessEnv, input?: string) =>
    new Promise<RunResult>((resolve) => {
      const child = execFile(
        file,
        args,
        { env, cwd: dir, maxBuffer: 64 * 1024 * 1024 },
        (err, stdout, stderr) => {
          const code = err
            ? typeof (err as { code?: unknown }).code === 'number'
              ? (err as { code: number }).code
              : 1
            : 0;
          resolve({ code, stdout, stderr });
        },
      );
      if (input !== undefined) child.stdin?.end(input);
      else child.stdin?.end();
    });
  return {
    dir,
    nodes,
    run: (cmd, args, ro = {}) =>
      exec(process.execPath, [cli(cmd), ...args], { ...baseEnv(ro.user), ...ro.env }, ro.input),
    sh: (script, ro = {}) => exec('/bin/bash', ['-c', script], baseEnv(ro.user)),
    disk: (node, part, file) => path.join(dir, 'vnodes', node, 'disk', `sda${part}`, file),
    down: () => removeSite(dir),
  };
}

/** Stops whatever of the site runs (a half-started one too), then removes its directory. */
async function removeSite(dir: string): Promise<void> {
  try {
    await testbedDown(dir);
  } finally {
    rmSync(dir, { recursive: true, force: true });
  }
}
