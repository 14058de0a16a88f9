import { describe, expect, it } from 'vitest';
import { longPollLog } from '../../src/engine/operations/log-long-poll.js';
import { OperationLog } from '../../src/engine/operations/operation-log.js';

/** The long poll behind GET /deployment|reboot|power/:wid/logs?wait_ms=N. */
function setup() {
  const log = new OperationLog(['n1']);
  let live: OperationLog | undefined = log;
  const read = (from: number) => ({ ...log.read(from, 3, false), done: log.done });
  return { log, read, live: () => live, forget: () => (live = undefined) };
}

describe('longPollLog', () => {
  it('answers at once when there are lines from `from` on', async () => {
    const s = setup();
    s.log.line(1, 'a');
    s.log.line(1, 'b');
    const page = await longPollLog(s.read, s.live, 1, 10_000, new AbortController().signal);
    expect(page).toEqual({ lines: ['b'], next: 2, done: false });
  });
  it('waits for the next line this reader sees; lines above its verbosity do not answer', async () => {
    const s = setup();
    const t0 = Date.now();
    const p = longPollLog(s.read, s.live, 0, 10_000, new AbortController().signal);
    setTimeout(() => s.log.line(5, 'debug detail'), 20);
    setTimeout(() => s.log.line(2, 'visible'), 60);
    const page = await p;
    expect(page).toEqual({ lines: ['visible'], next: 2, done: false });
    expect(Date.now() - t0).toBeLessThan(5_000);
  });
  it('answers at the end of the operation', async () => {
    const s = setup();
    const p = longPollLog(s.read, s.live, 0, 10_000, new AbortController().signal);
    setTimeout(() => s.log.finish([]), 20);
    expect(await p).toEqual({ lines: [], next: 0, done: true });
  });
  it('answers an empty page after wait_ms with nothing new', async () => {
    const s = setup();
    const t0 = Date.now();
    expect(await longPollLog(s.read, s.live, 0, 50, new AbortController().signal)).toEqual({
      lines: [],
      next: 0,
      done: false,
    });
    expect(Date.now() - t0).toBeGreaterThanOrEqual(45);
  });
  it('answers when the request is aborted (client gone), and at once without a live log', async () => {
    const s = setup();
    const ac = new AbortController();
    const p = longPollLog(s.read, s.live, 0, 10_000, ac.signal);
    setTimeout(() => ac.abort(), 20);
    expect((await p).lines).toEqual([]);
    s.forget();
    expect(await longPollLog(s.read, s.live, 0, 10_000, new AbortController().signal)).toEqual({
      lines: [],
      next: 0,
      done: false,
    });
  });
});
