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

/**
 * The same fan-out without relays that forward to several children: `fanout` chains (node i in
 * chain i mod fanout), each fed by the engine, which then sends the image `fanout` times.
 */
export function chainsTopology(names: readonly string[], fanout = 2): RelayTopology {
  const chains: string[][] = Array.from({ length: Math.min(fanout, names.length) }, () => []);
  names.forEach((n, i) => {
    chains[i % chains.length]?.push(n);
  });
  const children = new Map<string, string[]>();
  for (const c of chains) {
    c.forEach((n, i) => {
      children.set(n, c[i + 1] !== undefined ? [c[i + 1] as string] : []);
    });
  }
  return { roots: chains.map((c) => c[0] as string), children };
}

export async function tree(
  nodes: readonly BroadcastNode[],
  ctx: BroadcastContext,
  o: BroadcastOptions & { multiNext: boolean },
  fanout = 2,
): Promise<BroadcastResults> {
  const names = nodes.map((n) => n.name);
  const topo = o.multiNext ? treeTopology(names, fanout) : chainsTopology(names, fanout);
  const out = await runRelays(nodes, topo, ctx, o, o.relayPort);
  return new Map([...out].map(([k, v]) => [k, v.ok ? { ok: true } : { ok: false, reason: v.reason }]));
}
