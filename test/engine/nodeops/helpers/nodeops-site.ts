import { type ChildProcessWithoutNullStreams, spawn } from 'node:child_process';
import { readFileSync, writeFileSync } from 'node:fs';
import path from 'node:path';
import { cli, type Site } from '../../../e2e/helpers/virtual-site.js';

/** The workflow id a kareboot3/kapower3 run printed (`Reboot #R-... started`). */
export function widOf(stdout: string): string {
  const m = /#([RP]-[0-9a-f-]{36}) started/.exec(stdout);
  if (!m?.[1]) throw new Error(`no workflow id in:\n${stdout}`);
  return m[1];
}

/** One statistics row of an operation as `field=value` pairs, for exact assertions. */
export async function statsOf(site: Site, wid: string, node: string): Promise<Record<string, string>> {
  const fields = [
    'hostname',
    'operation',
    'step1',
    'step2',
    'timeout_step1',
    'retry_step1',
    'env',
    'success',
    'error',
  ];
  const r = await site.run('kastat3', ['-w', wid, '-m', node, '-F', fields.join(',')]);
  const line = r.stdout.trim().split('\n').at(-1) ?? '';
  const values = line.split(',');
  return Object.fromEntries(fields.map((f, i) => [f, values[i] ?? '']));
}

/** What the node runs now, from its own /etc/os-release (over SSH with the site's ssh_config). */
export async function runningSystem(site: Site, node: string): Promise<string> {
  const r = await site.sh(`ssh -F ${site.dir}/ssh_config ${node} cat /etc/os-release`);
  return /^ID=(.*)$/m.exec(r.stdout)?.[1] ?? `unreachable: ${r.stderr.trim()}`;
}

/** A private copy of tiny-x64-base under another name, tagged destructive, added with kaenv3. */
export async function addDestructiveEnv(site: Site, name: string): Promise<void> {
  const text = readFileSync(path.join(site.dir, 'envs', 'tiny-x64-base.yaml'), 'utf8')
    .replace(/^name: .*$/m, `name: ${name}`)
    .replace(/^destructive: .*$/m, 'destructive: true')
    .replace(/^visibility: .*$/m, 'visibility: private');
  const file = path.join(site.dir, `${name}.yaml`);
  writeFileSync(file, text);
  const r = await site.run('kaenv3', ['-a', file]);
  if (r.code !== 0) throw new Error(`kaenv3 -a failed: ${r.stderr}`);
}

/** A command run by a test that types into it, waits for its output and signals it. */
export interface CliDriver {
  child: ChildProcessWithoutNullStreams;
  output(): string;
  stderr(): string;
  type(text: string): void;
  waitFor(re: RegExp, what?: string): Promise<void>;
  exit: Promise<number>;
}

export function spawnCli(site: Site, cmd: string, args: string[], user?: string): CliDriver {
  const who = user ?? (process.env.USER || 'root');
  const child = spawn(process.execPath, [cli(cmd), ...args], {
    cwd: site.dir,
    env: {
      ...process.env,
      KAPLOY_CLIENT_CONFIG: path.join(site.dir, 'client.yaml'),
      KAPLOY_TOKEN_FILE: path.join(site.dir, 'tokens', who),
    },
    stdio: ['pipe', 'pipe', 'pipe'],
  });
  let out = '';
  let err = '';
  const waiters = new Set<() => void>();
  const poke = () => {
    for (const w of waiters) w();
  };
  child.stdout.on('data', (d: Buffer) => {
    out += d.toString('utf8');
    poke();
  });
  child.stderr.on('data', (d: Buffer) => {
    err += d.toString('utf8');
    poke();
  });
  const exit = new Promise<number>((resolve) => child.on('close', (code) => resolve(code ?? -1)));
  void exit.then(poke);
  return {
    child,
    output: () => out,
    stderr: () => err,
    type: (text) => child.stdin.write(text),
    exit,
    waitFor: (re, what = String(re)) =>
      new Promise<void>((resolve, reject) => {
        const check = () => {
          if (re.test(out)) {
            waiters.delete(check);
            resolve();
          } else if (child.exitCode !== null) {
            waiters.delete(check);
            reject(new Error(`${cmd} exited before ${what}\nstdout: ${out}\nstderr: ${err}`));
          }
        };
        waiters.add(check);
        check();
      }),
  };
}

/** An interactive kaconsole3 on one node. */
export function openConsole(site: Site, node: string, user?: string): CliDriver {
  return spawnCli(site, 'kaconsole3', ['-m', node], user);
}
