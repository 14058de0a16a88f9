import { type ChildProcess, spawn } from 'node:child_process';
import path from 'node:path';
import { fileURLToPath } from 'node:url';

const MAIN = path.join(path.dirname(fileURLToPath(import.meta.url)), 'engine-main.mjs');

/** The engine process (see engine-main.mjs); `restart` reuses its port, as a restarted engine would. */
export interface EngineProc {
  url: string;
  port: number;
  stop(): Promise<void>;
}

export async function startEngineProc(siteYaml: string, port = 0): Promise<EngineProc> {
  const proc: ChildProcess = spawn(process.execPath, [MAIN, siteYaml, String(port)], {
    stdio: ['ignore', 'pipe', 'pipe'],
  });
  const exited = new Promise<void>((r) => proc.on('exit', () => r()));
  const url = await new Promise<string>((resolve, reject) => {
    let out = '';
    let err = '';
    proc.stdout?.on('data', (d) => {
      out += d;
      const m = /listening (http:\/\/\S+)/.exec(out);
      if (m) resolve(m[1] as string);
    });
    proc.stderr?.on('data', (d) => {
      err += d;
    });
    void exited.then(() => reject(new Error(`engine exited before listening: ${err}`)));
  });
  return {
    url,
    port: Number(new URL(url).port),
    async stop() {
      proc.kill('SIGTERM');
      await exited;
    },
  };
}
