import { type RelayTopology, runRelays } from './relay-run.js';
import type { BroadcastContext, BroadcastNode, BroadcastOptions, BroadcastResults } from './types.js';

/**
 * A pipelined tree in node order (heap layout: node i forwards to 2i+1 and 2i+2): depth log2(n)
 * instead of n, at the price of each inner node sending twice its input. The engine feeds the root.
 */
export function treeTopology(names: readonly string[], fanout = 2): RelayTopology {
  const children = new Map<string, string[]>();
  names.forEach((n, i) => {
    const cs: string[] = [];
    for (let k = 1; k <= fanout; k++) {
      const c = names[fanout * i + k];
      if (c !== undefined) cs.push(c);
    }
    children.set(n, cs);
  });
  return { roots: names.length > 0 ? [names[0] as string] : [], children };
}

export async function tree(
  nodes: readonly BroadcastNode[],
  ctx: BroadcastContext,
  o: BroadcastOptions,
  fanout = 2,
): Promise<BroadcastResults> {
  const out = await runRelays(
    nodes,
    treeTopology(
      nodes.map((n) => n.name),
      fanout,
    ),
    ctx,
    o,
    o.relayPort,
  );
  return new Map([...out].map(([k, v]) => [k, v.ok ? { ok: true } : { ok: false, reason: v.reason }]));
}
