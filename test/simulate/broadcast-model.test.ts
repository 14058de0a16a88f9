import { describe, expect, it } from 'vitest';
import { type BroadcastFault, broadcast, transferMs } from '../../src/simulate/broadcast-model.js';

const nodes = (n: number, slow?: number) =>
  Array.from({ length: n }, (_, i) => ({ name: `n${i}`, nicMBs: i === slow ? 5 : 10, diskMBs: 100 }));
const params = (
  faults: Record<string, BroadcastFault> = {},
  perRound?: (node: string, r: number) => BroadcastFault,
) => ({
  imageMB: 100,
  hopLatencyMs: 10,
  engineNicMBs: 1000,
  fault: (node: string, r: number) => (perRound ? perRound(node, r) : faults[node]),
  where: () => 0.5,
});

describe('broadcast model', () => {
  it('a chain pipelines at its slowest NIC, plus one latency per relay', () => {
    expect(transferMs(nodes(8), 'chain', params())).toBe(10_000 + 80);
    expect(transferMs(nodes(8, 3), 'chain', params())).toBe(20_000 + 80);
  });

  it('a tree halves its inner nodes NIC and pays log2(n)+1 hops', () => {
    expect(transferMs(nodes(8), 'tree', params())).toBe(20_000 + 40);
    expect(transferMs(nodes(1), 'tree', params())).toBe(10_000 + 10);
  });

  it('a failed chain node breaks every node after it; a tree only its subtree', () => {
    const chain = broadcast(nodes(4), 'chain', params({ n1: 'fail' }));
    expect([...chain.results.entries()].map(([n, r]) => [n, r.ok])).toEqual([
      ['n0', true],
      ['n1', false],
      ['n2', false],
      ['n3', false],
    ]);
    expect(chain.results.get('n3')).toEqual({ ok: false, reason: 'broadcast broken upstream at n1' });
    const tree = broadcast(nodes(7), 'tree', params({ n1: 'fail' }));
    const ko = [...tree.results.entries()].filter(([, r]) => !r.ok).map(([n]) => n);
    expect(ko.sort()).toEqual(['n1', 'n3', 'n4']);
  });

  it('kascade re-sends the tail in a new round and retries the failed node once', () => {
    // n1 fails in round 0 only: round 0 (4 nodes) then round 1 over n1..n3, every node ends OK.
    const once = broadcast(
      nodes(4),
      'kascade',
      params({}, (n, r) => (n === 'n1' && r === 0 ? 'fail' : undefined)),
    );
    expect(once.rounds).toBe(2);
    expect(once.durationMs).toBe(10_040 + 10_030);
    expect([...once.results.values()].every((r) => r.ok)).toBe(true);
    // A lost node is not retried: round 1 runs over n2, n3 only.
    const lost = broadcast(nodes(4), 'kascade', params({ n1: 'lost' }));
    expect(lost.durationMs).toBe(10_040 + 10_020);
    expect(lost.results.get('n1')?.ok).toBe(false);
    expect(lost.results.get('n3')?.ok).toBe(true);
  });

  it('a hung relay stalls the whole call', () => {
    expect(broadcast(nodes(3), 'chain', params({ n2: 'hang' })).durationMs).toBe(Number.POSITIVE_INFINITY);
  });
});
