import { describe, expect, it } from 'vitest';
import { upProgress } from '../../../src/testbed/manager/up-progress.js';

/** A stream that records what is written, a terminal or not (a fake: the writer is what is tested). */
function stream(isTTY: boolean) {
  const writes: string[] = [];
  return {
    isTTY,
    writes,
    write: (s: string) => {
      writes.push(s);
      return true;
    },
  } as unknown as NodeJS.WritableStream & {
    isTTY: boolean;
    writes: string[];
  };
}

/** A site of 500 nodes coming up, one node every 20 ms of a fake clock (10 s in all). */
function bootFiveHundred(p: ReturnType<typeof upProgress>, clock: { t: number }) {
  p.update('prepared', 0, 500);
  for (let i = 0; i <= 500; i++) {
    clock.t += 10;
    p.update('started', i, 500);
  }
  for (let i = 0; i <= 500; i++) {
    clock.t += 10;
    p.update('booted', i, 500);
  }
  p.update('engine', 500, 500);
  p.end();
}

describe('kaploy testbed up progress', () => {
  it('on a terminal: one live line, redrawn in place (bounded), cleared at the end', () => {
    const err = stream(true);
    const clock = { t: 1_000_000 };
    bootFiveHundred(
      upProgress(err, { TERM: 'xterm', KAPLOY_PROGRESS: '1' }, () => clock.t),
      clock,
    );
    expect(err.writes.every((w) => w.startsWith('\r\x1b[K') && !w.includes('\n'))).toBe(true);
    expect(err.writes.at(-1)).toBe('\r\x1b[K');
    expect(err.writes[0]).toBe('\r\x1b[Ktestbed up: site files written (500 nodes), 0 s');
    expect(err.writes).toContain('\r\x1b[Ktestbed up: nodes started 500/500, 5 s');
    expect(err.writes).toContain('\r\x1b[Ktestbed up: nodes booted 500/500, 10 s');
    expect(err.writes.some((w) => /nodes booted (\d+)\/500/.test(w) && !w.includes('500/500'))).toBe(true);
    // Redrawn at most every 200 ms of the 10 s, plus the phases: never once per node.
    expect(err.writes.length).toBeLessThan(70);
  });

  it('without a terminal (or TERM=dumb): a line per phase and per further 10 %, nothing rewritten', () => {
    for (const [isTTY, env] of [
      [false, { TERM: 'xterm' }],
      [true, { TERM: 'dumb' }],
    ] as const) {
      const err = stream(isTTY);
      const clock = { t: 0 };
      bootFiveHundred(
        upProgress(err, env, () => clock.t),
        clock,
      );
      expect(err.writes.every((w) => w.endsWith('\n') && !w.includes('\r'))).toBe(true);
      const booted = err.writes
        .filter((w) => w.includes('nodes booted'))
        .map((w) => /(\d+)\/500/.exec(w)?.[1]);
      expect(booted).toEqual(['0', '50', '100', '150', '200', '250', '300', '350', '400', '450', '500']);
      expect(err.writes[0]).toBe('testbed up: site files written (500 nodes), 0 s\n');
      expect(err.writes.at(-1)).toBe('testbed up: engine starting (500 nodes), 10 s\n');
    }
  });

  it('without a terminal, a slow phase still prints every 5 s', () => {
    const err = stream(false);
    const clock = { t: 0 };
    const p = upProgress(err, {}, () => clock.t);
    p.update('booted', 0, 2000);
    for (let s = 1; s <= 20; s++) {
      clock.t = s * 1000;
      p.update('booted', s, 2000);
    }
    expect(err.writes).toEqual([
      'testbed up: nodes booted 0/2000, 0 s\n',
      'testbed up: nodes booted 5/2000, 5 s\n',
      'testbed up: nodes booted 10/2000, 10 s\n',
      'testbed up: nodes booted 15/2000, 15 s\n',
      'testbed up: nodes booted 20/2000, 20 s\n',
    ]);
  });
});
