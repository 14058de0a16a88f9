import { describe, expect, it } from 'vitest';
import { AdmissionQueue } from '../../../src/engine/operations/admission.js';

/** The admission queue alone: what it admits, in which order, and what leaving it does. */
const never = new AbortController().signal;

function recorder() {
  const moves: [string, number][] = [];
  return { moves, moved: (wid: string) => (p: number) => moves.push([wid, p]) };
}

describe('AdmissionQueue', () => {
  it('without bounds admits everything at once', () => {
    const q = new AdmissionQueue({ maxOperations: 0, maxNodes: 0 });
    for (let i = 0; i < 100; i++) expect(q.enter(`w${i}`, 1000, never, () => {})).toBeUndefined();
    expect(q.load()).toEqual({ operations: 100, nodes: 100_000, waiting: 0 });
  });

  it('when a large first one is cancelled, the ones behind it that fit are admitted and the rest move up', async () => {
    const q = new AdmissionQueue({ maxOperations: 0, maxNodes: 4 });
    const r = recorder();
    expect(q.enter('a', 3, never, r.moved('a'))).toBeUndefined();
    const big = new AbortController();
    const b = q.enter('b', 4, big.signal, r.moved('b'));
    const c = q.enter('c', 1, never, r.moved('c'));
    const d = q.enter('d', 2, never, r.moved('d'));
    expect([b?.position, c?.position, d?.position]).toEqual([1, 2, 3]);
    const admitted: string[] = [];
    void c?.admitted.then(() => admitted.push('c'));
    void d?.admitted.then(() => admitted.push('d'));
    big.abort(new Error('cancelled by alice'));
    await expect(b?.admitted).rejects.toThrow('cancelled by alice');
    await Promise.resolve();
    // c (3 + 1 = 4) fits; d (4 + 2) waits, now first.
    expect(admitted).toEqual(['c']);
    expect(q.position('d')).toBe(1);
    expect(r.moves).toEqual([['d', 1]]);
    q.release('a');
    await d?.admitted;
    expect(q.load()).toEqual({ operations: 2, nodes: 3, waiting: 0 });
    q.release('a'); // twice: nothing more freed
    expect(q.load().nodes).toBe(3);
  });

  it('refuses an id twice, and an already stopped one waits for nothing', async () => {
    const q = new AdmissionQueue({ maxOperations: 1, maxNodes: 0 });
    expect(q.enter('a', 1, never, () => {})).toBeUndefined();
    expect(() => q.enter('a', 1, never, () => {})).toThrow(/twice/);
    const stopped = AbortSignal.abort(new Error('server shutting down'));
    const s = q.enter('s', 1, stopped, () => {});
    await expect(s?.admitted).rejects.toThrow('server shutting down');
    expect(q.position('s')).toBeUndefined();
    expect(q.load()).toEqual({ operations: 1, nodes: 1, waiting: 0 });
  });
});
