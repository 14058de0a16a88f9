import { spawn } from 'node:child_process';
import type { Io } from './follow.js';

/**
 * -s FILE, once after the deployment (after every site with -M), as Kadeploy does: `Running FILE`,
 * the script's output, then `Success !` or `Fail !`. The file is executed (no shell). Its result
 * does not change kadeploy3's exit code, which says how the nodes ended.
 */
export function runEndScript(file: string, io: Io): Promise<void> {
  io.out.write(`Running ${file}\n`);
  return new Promise((resolve) => {
    const child = spawn(file, [], { stdio: ['ignore', 'pipe', 'pipe'] });
    child.stdout.on('data', (d) => io.out.write(d));
    child.stderr.on('data', (d) => io.err.write(d));
    // A file that cannot be executed emits 'error' and then 'close': report it once.
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
