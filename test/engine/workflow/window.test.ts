import { describe, expect, it } from 'vitest';
import { createWindow } from '../../../src/engine/workflow/window.js';

describe('createWindow', () => {
  it('lets at most `size` holders in and hands slots over in arrival order', async () => {
    const w = createWindow(2);
    const r1 = await w.acquire();
    const r2 = await w.acquire();
    const order: string[] = [];
    const third = w.acquire().then((r) => {
      order.push('third');
      return r;
    });
    const fourth = w.acquire().then((r) => {
      order.push('fourth');
      return r;
    });
    expect([w.active, w.waiting]).toEqual([2, 2]);
    r1();
    r1(); // idempotent: a second call frees nothing more
    const r3 = await third;
    expect(order).toEqual(['third']);
    expect([w.active, w.waiting]).toEqual([2, 1]);
    r2();
    const r4 = await fourth;
    expect(order).toEqual(['third', 'fourth']);
    r3();
    r4();
    expect([w.active, w.waiting]).toEqual([0, 0]);
  });

  it('bounds concurrency in run() and releases on errors', async () => {
    const w = createWindow(3);
    let inside = 0;
    let peak = 0;
    const job = (i: number) =>
      w.run(async () => {
        inside++;
        peak = Math.max(peak, inside);
        await new Promise((r) => setTimeout(r, 2));
        inside--;
        if (i === 4) throw new Error('boom');
        return i;
      });
    const results = await Promise.allSettled(Array.from({ length: 10 }, (_, i) => job(i)));
    expect(peak).toBe(3);
    expect(results.filter((r) => r.status === 'rejected')).toHaveLength(1);
    expect([w.active, w.waiting]).toEqual([0, 0]);
  });

  it('removes an aborted waiter from the queue and rejects with the reason', async () => {
    const w = createWindow(1);
    const release = await w.acquire();
    const ac = new AbortController();
    const waiting = w.acquire(ac.signal);
    expect(w.waiting).toBe(1);
    ac.abort(new Error('cancelled'));
    await expect(waiting).rejects.toThrow('cancelled');
    expect(w.waiting).toBe(0);
    await expect(w.acquire(ac.signal)).rejects.toThrow('cancelled');
    release();
    expect(w.active).toBe(0);
  });

  it('rejects a size that is not a whole number >= 1', () => {
    expect(() => createWindow(0)).toThrow('A window size must be a whole number >= 1, not 0');
    expect(() => createWindow(1.5)).toThrow('not 1.5');
  });

  it('tells onQueue of waiters joining and leaving the queue (granted or aborted)', async () => {
    let queued = 0;
    const seen: number[] = [];
    const w = createWindow(1, (d) => {
      queued += d;
      seen.push(queued);
    });
    const r1 = await w.acquire();
    const ac = new AbortController();
    const second = w.acquire();
    const third = w.acquire(ac.signal).catch((e: unknown) => e);
    expect(queued).toBe(2);
    ac.abort(new Error('gone'));
    expect(await third).toMatchObject({ message: 'gone' });
    expect(queued).toBe(1);
    r1();
    (await second)();
    expect(seen).toEqual([1, 2, 1, 0]);
  });
});
