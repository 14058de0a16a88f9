import { execFile, spawn } from 'node:child_process';
import { closeSync, openSync, readSync, statSync } from 'node:fs';
import { shellJoin } from '../../../../src/common/shell-quote.js';

/** Runs a program (argument vector), resolving with its exit code and output. */
export function sh(
  file: string,
  args: string[],
  opts: { env?: NodeJS.ProcessEnv; timeoutMs?: number } = {},
): Promise<{ code: number; stdout: string; stderr: string }> {
  return new Promise((resolve) => {
    execFile(
      file,
      args,
      { env: opts.env ?? process.env, timeout: opts.timeoutMs ?? 120_000, maxBuffer: 16 << 20 },
      (err, stdout, stderr) => {
        resolve({ code: err ? (typeof err.code === 'number' ? err.code : -1) : 0, stdout, stderr });
      },
    );
  });
}

/** `oarsub ARGS` as USER (a login shell, as users submit); returns the job id. */
export async function oarsubAs(user: string, args: string[]): Promise<number> {
  const r = await sh('su', ['-', user, '-c', shellJoin(['oarsub', ...args])]);
  const m = /OAR_JOB_ID=(\d+)/.exec(r.stdout);
  if (!m) throw new Error(`oarsub failed (${r.code}): ${r.stdout} ${r.stderr}`);
  return Number(m[1]);
}

export interface JobInfo {
  state: string;
  nodes: string[];
  owner: string;
}

export async function job(id: number): Promise<JobInfo | undefined> {
  const r = await sh('oarstat', ['-J', '-f', '-j', String(id)]);
  if (r.stdout.trim() === '') return undefined;
  const j = (
    JSON.parse(r.stdout) as Record<
      string,
      { state: string; assigned_network_address: string[]; owner: string }
    >
  )[String(id)];
  if (!j) return undefined;
  return { state: j.state, nodes: [...new Set(j.assigned_network_address)], owner: j.owner };
}

/** Polls until fn returns a value (not undefined/false), or throws after timeoutMs. */
export async function waitFor<T>(
  what: string,
  fn: () => Promise<T | undefined | false>,
  timeoutMs = 90_000,
  everyMs = 500,
): Promise<T> {
  const end = Date.now() + timeoutMs;
  for (;;) {
    const v = await fn();
    if (v !== undefined && v !== false) return v;
    if (Date.now() > end) throw new Error(`timed out waiting for ${what}`);
    await new Promise((r) => setTimeout(r, everyMs));
  }
}

export async function waitState(id: number, states: string[], timeoutMs = 90_000): Promise<JobInfo> {
  return waitFor(
    `job ${id} in ${states.join('|')}`,
    async () => {
      const j = await job(id);
      return j && states.includes(j.state) ? j : undefined;
    },
    timeoutMs,
  );
}

/** Node -> state, from `oarnodes -J -s` (one resource per node here). */
export async function nodeStates(): Promise<Record<string, string>> {
  const r = await sh('oarnodes', ['-J', '-s']);
  const doc = JSON.parse(r.stdout || '{}') as Record<string, Record<string, string>>;
  return Object.fromEntries(Object.entries(doc).map(([n, res]) => [n, Object.values(res)[0] ?? '']));
}

/** Queue -> state, from `oarnotify -l`. */
export async function queueStates(): Promise<Record<string, string>> {
  const r = await sh('oarnotify', ['-l']);
  const out: Record<string, string> = {};
  let q = '';
  for (const line of r.stdout.split('\n')) {
    const name = /^(\S+)$/.exec(line);
    if (name) q = name[1] as string;
    const st = /^\s+state = (\S+)/.exec(line);
    if (st && q) out[q] = st[1] as string;
  }
  return out;
}

/** kaploy's lines appended to /var/log/oar.log since `from` (a byte offset). */
export function oarLogSince(from: number): string[] {
  const size = statSync('/var/log/oar.log').size;
  if (size <= from) return [];
  const buf = Buffer.alloc(size - from);
  const fd = openSync('/var/log/oar.log', 'r');
  try {
    readSync(fd, buf, 0, buf.length, from);
  } finally {
    closeSync(fd);
  }
  return buf
    .toString('utf8')
    .split('\n')
    .filter((l) => l.startsWith('[kaploy]'))
    .map((l) => l.replace(/^\[kaploy\] \[[^\]]+\] /, ''));
}

export function oarLogSize(): number {
  return statSync('/var/log/oar.log').size;
}

/** A hook run by hand as user oar, with a bare environment like OAR3's (no PATH). */
export function runHookAsOar(
  hookFile: string,
  args: string[],
): Promise<{ code: number; stdout: string; stderr: string }> {
  return sh('runuser', ['-u', 'oar', '--', 'env', '-i', 'OARCONFFILE=/etc/oar/oar.conf', hookFile, ...args]);
}

/**
 * An interactive deploy job through a pseudo-terminal, as a user types it: `oarsub -I -t deploy`.
 * `send` writes a line to the job's shell; `output` is everything printed so far.
 */
export function interactiveJob(user: string, oarsubArgs: string[]) {
  const cmd = shellJoin(['su', '-', user, '-c', shellJoin(['oarsub', '-I', ...oarsubArgs])]);
  const proc = spawn('script', ['-qfec', cmd, '/dev/null'], { stdio: ['pipe', 'pipe', 'pipe'] });
  let output = '';
  proc.stdout.on('data', (d) => {
    output += d;
  });
  proc.stderr.on('data', (d) => {
    output += d;
  });
  const exited = new Promise<number | null>((r) => proc.on('exit', (c) => r(c)));
  return {
    get output() {
      return output;
    },
    send(line: string) {
      proc.stdin.write(`${line}\n`);
    },
    exited,
    kill() {
      proc.kill('SIGKILL');
    },
  };
}
