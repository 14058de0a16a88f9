import { describe, expect, it } from 'vitest';
import { EventScheduler } from '../../src/simulate/scheduler.js';

describe('event scheduler', () => {
  it('jumps virtual time from event to event, in time then insertion order', async () => {
    const s = new EventScheduler();
    const seen: string[] = [];
    await s.run(async () => {
      s.setTimeout(() => seen.push(`b@${s.now()}`), 5000);
      s.setTimeout(() => seen.push(`a@${s.now()}`), 1000);
      s.setTimeout(() => seen.push(`c@${s.now()}`), 5000);
      const dropped = s.setTimeout(() => seen.push('never'), 3000);
      s.clearTimeout(dropped);
      await s.sleep(10_000);
      seen.push(`end@${s.now()}`);
    });
    expect(seen).toEqual(['a@1000', 'b@5000', 'c@5000', 'end@10000']);
  });

  it('a sleep rejects when its signal aborts, at the abort time', async () => {
    const s = new EventScheduler();
    const ac = new AbortController();
    const at = await s.run(async () => {
      s.setTimeout(() => ac.abort(new Error('stop')), 2500);
      await expect(s.sleep(60_000, ac.signal)).rejects.toThrow('stop');
      return s.now();
    });
    expect(at).toBe(2500);
  });

  it('refuses to wait forever when nothing is left to fire', async () => {
    const s = new EventScheduler();
    await expect(s.run(() => s.sleep(Number.POSITIVE_INFINITY))).rejects.toThrow(/deadlocked/);
  });
});
