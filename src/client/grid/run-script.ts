import { spawn } from 'node:child_process';
import type { Io } from '../deploy/kadeploy.js';

/**
 * -s FILE, once after every site finished: Kadeploy prints `Running FILE` then `Success !` or
 * `Fail !`. The file is executed (no shell), as Kadeploy does.
 */
export function runEndScript(file: string, io: Io): Promise<void> {
  io.out.write(`Running ${file}\n`);
  return new Promise((resolve) => {
    const child = spawn(file, [], { stdio: ['ignore', 'pipe', 'pipe'] });
    child.stdout.on('data', (d) => io.out.write(d));
    child.stderr.on('data', (d) => io.err.write(d));
    // A file that cannot be executed emits 'error' and may still emit 'close': report once.
    let done = false;
    const end = (ok: boolean) => {
      if (done) return;
      done = true;
      io.out.write(ok ? 'Success !\n' : 'Fail !\n');
      resolve();
    };
    child.on('error', () => end(false));
    child.on('close', (code) => end(code === 0));
  });
}
