import { progressWanted } from '../../client/terminal-settings.js';

/** What `kaploy testbed up` is waiting for: files written, nodes started, nodes booted, engine. */
export type UpPhase = 'prepared' | 'started' | 'booted' | 'engine';

/** Where `testbedUp` tells how far it is; `end` clears a live line. */
export interface UpProgress {
  update(phase: UpPhase, done: number, total: number): void;
  end(): void;
}

/** Without a terminal: a line at most this often, or at each further 10 % of the nodes. */
const EVERY_MS = 5_000;
/** Tenths of the nodes, counted in integers (0.3 - 0.2 < 0.1 in floating point). */
const STEPS = 10;
/** On a terminal: the live line is redrawn at most this often. */
const REDRAW_MS = 200;

const WORDS: Record<UpPhase, string> = {
  prepared: 'site files written',
  started: 'nodes started',
  booted: 'nodes booted',
  engine: 'engine starting',
};

/**
 * The progress of `kaploy testbed up` on `err`: on a terminal that can move the cursor (the rule of
 * kadeploy3's progress line, progressWanted) one live line `nodes booted 120/500, 12 s`; elsewhere
 * (a log, CI) a line at each phase, each further 10 % of the nodes and every 5 s at most, so a site
 * of hundreds of nodes is seen moving either way.
 */
export function upProgress(
  err: NodeJS.WritableStream & { isTTY?: boolean },
  env: NodeJS.ProcessEnv = process.env,
  now: () => number = Date.now,
): UpProgress {
  const tty = progressWanted(err, env);
  const start = now();
  let phase: UpPhase | undefined;
  let lastAt = 0;
  let lastStep = 0;
  let lastDone = -1;
  let drawn = false;
  const text = (p: UpPhase, done: number, total: number) => {
    const secs = Math.round((now() - start) / 1000);
    return p === 'prepared' || p === 'engine'
      ? `testbed up: ${WORDS[p]} (${total} nodes), ${secs} s`
      : `testbed up: ${WORDS[p]} ${done}/${total}, ${secs} s`;
  };
  return {
    update(p, done, total) {
      const t = now();
      const step = total > 0 ? Math.floor((done * STEPS) / total) : STEPS;
      const changed = p !== phase;
      if (tty) {
        if (!changed && done === lastDone && t - lastAt < 1000) return; // the elapsed time moves
        if (!changed && t - lastAt < REDRAW_MS && done !== total) return;
        err.write(`\r\x1b[K${text(p, done, total)}`);
        drawn = true;
      } else {
        const due = t - lastAt >= EVERY_MS || step > lastStep || (done === total && done !== lastDone);
        if (!changed && !due) return;
        err.write(`${text(p, done, total)}\n`);
      }
      phase = p;
      lastAt = t;
      lastDone = done;
      lastStep = changed ? step : Math.max(lastStep, step);
    },
    end() {
      if (drawn) err.write('\r\x1b[K');
      drawn = false;
    },
  };
}
