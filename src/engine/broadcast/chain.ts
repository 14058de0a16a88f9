import { chainTopology, runRelays } from './relay-run.js';
import type { BroadcastContext, BroadcastNode, BroadcastOptions, BroadcastResults } from './types.js';

/**
 * Kastafior-like pipelined chain: engine -> n1 -> n2 -> ... in node order, the image read once.
 * Total time stays near one transfer whatever n (each hop adds only its latency). Not fault
 * tolerant: a node that fails breaks the stream of every node after it (they are KO, with the
 * failed node named); see kascade.ts for the tolerant variant.
 */
export async function chain(
  nodes: readonly BroadcastNode[],
  ctx: BroadcastContext,
  o: BroadcastOptions,
): Promise<BroadcastResults> {
  const out = await runRelays(nodes, chainTopology(nodes.map((n) => n.name)), ctx, o, o.relayPort);
  return new Map([...out].map(([k, v]) => [k, v.ok ? { ok: true } : { ok: false, reason: v.reason }]));
}
