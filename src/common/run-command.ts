import { execFile } from 'node:child_process';

export interface CommandResult {
  code: number | null;
  signal: NodeJS.Signals | null;
  stdout: string;
  stderr: string;
  /** The command ran out of its time or was aborted (and was killed). */
  timedOut: boolean;
}

/**
 * Runs a program with an argument vector (never a shell), bounded by `timeoutMs` and `signal`;
 * output is captured (bounded), stdin gets `input` or nothing. Never throws for the command's own failure: the caller decides.
 * Throws only if the program cannot be started at all (ENOENT, EACCES).
 */
export function runCommand(
  argv: readonly string[],
  opts: {
    timeoutMs: number;
    signal?: AbortSignal;
    env?: NodeJS.ProcessEnv;
    maxBuffer?: number;
    /** Written to the command's stdin (a secret that must not appear in its arguments); else stdin is empty. */
    input?: string;
  },
): Promise<CommandResult> {
  const [file, ...args] = argv;
  if (file === undefined) return Promise.reject(new Error('empty command'));
  return new Promise((resolve, reject) => {
    const child = execFile(
      file,
      args,
      {
        timeout: opts.timeoutMs,
        killSignal: 'SIGKILL',
        maxBuffer: opts.maxBuffer ?? 64 * 1024 * 1024,
        encoding: 'utf8',
        ...(opts.signal ? { signal: opts.signal } : {}),
        ...(opts.env ? { env: opts.env } : {}),
      },
      (err, stdout, stderr) => {
        if (
          err &&
          typeof (err as NodeJS.ErrnoException).code === 'string' &&
          (err as NodeJS.ErrnoException).code !== 'ABORT_ERR'
        ) {
          const code = (err as NodeJS.ErrnoException).code;
          if (code === 'ENOENT' || code === 'EACCES') return reject(new Error(`cannot run ${file}: ${code}`));
        }
        const e = err as
          | (Error & { code?: number | string; killed?: boolean; signal?: NodeJS.Signals | null })
          | null;
        resolve({
          code: e ? (typeof e.code === 'number' ? e.code : null) : 0,
          signal: e?.signal ?? null,
          stdout,
          stderr,
          timedOut: Boolean(e && (e.killed || e.name === 'AbortError')),
        });
      },
    );
    // A command that exits without reading its input closes the pipe: that is its own outcome.
    child.stdin?.on('error', () => undefined);
    child.stdin?.end(opts.input);
  });
}

/** Last non-empty line of a command's stderr (or stdout), for one-line log messages. */
function lastLine(r: CommandResult): string {
  const lines = `${r.stderr}\n${r.stdout}`
    .split('\n')
    .map((l) => l.trim())
    .filter((l) => l !== '');
  return (lines.at(-1) ?? '').slice(0, 200);
}

export function describeFailure(r: CommandResult): string {
  if (r.timedOut) return 'timed out (killed)';
  if (r.signal) return `killed by ${r.signal}`;
  const tail = lastLine(r);
  return `exit code ${r.code}${tail ? `: ${tail}` : ''}`;
}
