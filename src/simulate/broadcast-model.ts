import type { Implementation, NodeResult } from '../engine/workflow/types.js';

/** The broadcast shapes of docs/steps.md, as the BroadcastEnv implementation picks them. */
export type BroadcastShape = 'chain' | 'tree' | 'kascade';

export function shapeOf(impl: Implementation): BroadcastShape {
  if (impl === 'BroadcastEnvTree') return 'tree';
  if (impl === 'BroadcastEnvKascade') return 'kascade';
  return 'chain';
}

/** One node as the broadcast sees it: its rates (MB/s) and its fault in a given round. */
export interface BroadcastNode {
  name: string;
  nicMBs: number;
  diskMBs: number;
}

export type BroadcastFault = 'fail' | 'lost' | 'hang' | undefined;

export interface BroadcastParams {
  imageMB: number;
  hopLatencyMs: number;
  engineNicMBs: number;
  /** The fault of node i in round r (kascade rounds re-draw); u in [0,1) for where a failure hits. */
  fault(node: string, round: number): BroadcastFault;
  where(node: string, round: number): number;
}

export interface BroadcastOutcome {
  /** Virtual ms the whole call takes; Infinity when a hung relay stalls it (until the timeout). */
  durationMs: number;
  results: Map<string, NodeResult>;
  rounds: number;
}

const failReason = (f: BroadcastFault) =>
  f === 'lost'
    ? 'send_environment: connection lost (modelled fault)'
    : 'send_environment: sink failed (modelled fault)';

/**
 * Time of one pipelined transfer: the image at the slowest rate on the path plus one hop latency per
 * level. A chain's rate is the slowest NIC or disk of all its nodes (every byte crosses every node);
 * in a tree (heap layout, node i feeds 2i+1 and 2i+2) an inner node sends its input twice, so its
 * outbound NIC is shared by its two children, and the depth is log2(n)+1 hops instead of n.
 */
export function transferMs(
  nodes: readonly BroadcastNode[],
  shape: BroadcastShape,
  p: BroadcastParams,
): number {
  const n = nodes.length;
  if (n === 0) return 0;
  let rate = p.engineNicMBs;
  for (const [i, x] of nodes.entries()) {
    rate = Math.min(rate, x.nicMBs, x.diskMBs);
    if (shape === 'tree' && 2 * i + 2 < n) rate = Math.min(rate, x.nicMBs / 2);
  }
  const hops = shape === 'tree' ? Math.floor(Math.log2(n)) + 1 : n;
  return (p.imageMB / rate) * 1000 + hops * p.hopLatencyMs;
}

/** The whole send_environment of one group: per-node results and how long the call takes. */
export function broadcast(
  nodes: readonly BroadcastNode[],
  shape: BroadcastShape,
  p: BroadcastParams,
): BroadcastOutcome {
  if (shape === 'kascade') return kascade(nodes, p);
  const results = new Map<string, NodeResult>();
  const faults = nodes.map((x) => p.fault(x.name, 0));
  if (faults.includes('hang')) return { durationMs: Number.POSITIVE_INFINITY, results, rounds: 1 };
  const t = transferMs(nodes, shape, p);
  const broken = new Map<number, string>(); // index -> the failed node upstream of it
  nodes.forEach((x, i) => {
    if (faults[i] === undefined) return;
    if (shape === 'chain')
      for (let j = i + 1; j < nodes.length; j++) if (!broken.has(j)) broken.set(j, x.name);
    if (shape === 'tree') markSubtree(i, nodes.length, x.name, broken);
  });
  // In the group's order, as the engine's broadcast returns them.
  nodes.forEach((x, i) => {
    const f = faults[i];
    const up = broken.get(i);
    let r: NodeResult = { ok: true };
    if (f !== undefined) r = { ok: false, reason: failReason(f) };
    else if (up !== undefined) r = { ok: false, reason: `broadcast broken upstream at ${up}` };
    results.set(x.name, r);
  });
  const firstFailed = faults.findIndex((f) => f !== undefined);
  // A chain whose first node fails ends when it fails; otherwise the nodes before it run to the end.
  const durationMs = shape === 'chain' && firstFailed === 0 ? t * p.where(nodes[0]?.name ?? '', 0) : t;
  return { durationMs, results, rounds: 1 };
}

function markSubtree(i: number, n: number, at: string, broken: Map<number, string>): void {
  const stack = [2 * i + 1, 2 * i + 2];
  while (stack.length > 0) {
    const j = stack.pop() as number;
    if (j >= n) continue;
    if (!broken.has(j)) broken.set(j, at);
    stack.push(2 * j + 1, 2 * j + 2);
  }
}

/** Kascade's tries per node before it is KO (docs/steps.md). */
const KASCADE_TRIES = 2;

/**
 * Kascade (docs/steps.md): round r is a chain over the remaining nodes; the nodes before the first
 * failed node f are done, f is KO if lost or out of tries (else retried), every node after f is
 * re-sent in round r+1 from the start of the image. Rounds run one after the other.
 */
function kascade(nodes: readonly BroadcastNode[], p: BroadcastParams): BroadcastOutcome {
  const results = new Map<string, NodeResult>();
  const tries = new Map<string, number>();
  let remaining = [...nodes];
  let durationMs = 0;
  let round = 0;
  while (remaining.length > 0) {
    const faults = remaining.map((x) => p.fault(x.name, round));
    if (faults.includes('hang')) return { durationMs: Number.POSITIVE_INFINITY, results, rounds: round + 1 };
    const t = transferMs(remaining, 'chain', p);
    const f = faults.findIndex((x) => x !== undefined);
    if (f < 0) {
      for (const x of remaining) results.set(x.name, { ok: true });
      durationMs += t;
      round++;
      break;
    }
    const failed = remaining[f] as BroadcastNode;
    durationMs += f === 0 ? t * p.where(failed.name, round) : t;
    for (const x of remaining.slice(0, f)) results.set(x.name, { ok: true });
    const used = (tries.get(failed.name) ?? 0) + 1;
    tries.set(failed.name, used);
    const out = faults[f] === 'lost' || used >= KASCADE_TRIES;
    if (out) results.set(failed.name, { ok: false, reason: failReason(faults[f]) });
    remaining = out ? remaining.slice(f + 1) : remaining.slice(f);
    round++;
  }
  return { durationMs, results, rounds: round };
}
