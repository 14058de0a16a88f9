import { type ChildProcess, spawn } from 'node:child_process';
import { KAPLOY_SERVER_BIN } from './run.js';

/** The real engine, as its own process (`kaploy server --config FILE --port 0`). */
export interface EngineProcess {
  url: string;
  proc: ChildProcess;
  /** Waits for the process to exit (after a signal). */
  exited: Promise<number | null>;
}

/** `configFile` undefined runs the embedded default site (give `env.HOME` to keep it in a temp dir). */
export function spawnEngine(
  configFile: string | undefined,
  env: NodeJS.ProcessEnv = process.env,
): Promise<EngineProcess> {
  return new Promise((resolve, reject) => {
    const proc = spawn(
      process.execPath,
      [KAPLOY_SERVER_BIN, 'server', ...(configFile ? ['--config', configFile] : []), '--port', '0'],
      {
        stdio: ['ignore', 'pipe', 'pipe'],
        env: { ...env, KAPLOY_LOG_LEVEL: 'warn' },
      },
    );
    const exited = new Promise<number | null>((r) => proc.on('exit', (code) => r(code)));
    let out = '';
    let err = '';
    proc.stderr?.on('data', (d) => {
      err += d;
    });
    proc.stdout?.on('data', (d) => {
      out += d;
      const m = /kaploy server listening on (http:\/\/\S+)/.exec(out);
      if (m) resolve({ url: m[1] as string, proc, exited });
    });
    void exited.then((code) => reject(new Error(`engine exited (${code}) before listening: ${err}`)));
  });
}
