import { chainTopology, runRelays } from './relay-run.js';
import type { BroadcastContext, BroadcastNode, BroadcastOptions, BroadcastResults } from './types.js';

/** A node whose own relay failed (not just its upstream) gets this many tries in all. */
const KASCADE_MAX_TRIES = 2;
/** Successive rounds listen on successive ports, so a late relay of a previous round cannot collide. */
const PORT_SPAN = 50;

/**
 * Kascade-like fault-tolerant chain. Round r runs the chain over the remaining nodes. After it:
 * - the nodes before the first failed node f are done (their stream never went through f);
 * - f is KO if its node is lost (SSH failure) or it already had KASCADE_MAX_TRIES; else it is retried;
 * - every node after f is re-sent in round r+1, whatever it reported: its stream came through f,
 *   so a truncated stream may have looked complete (a dd sink cannot tell);
 * - the next round is a chain from the engine through the remaining nodes, re-sending the image
 *   from its start (relays keep no offset: simpler, and correct for tar and dd alike).
 * Each round settles or charges f, so the rounds end; the cost of a failure is one extra transfer
 * to the tail of the chain only.
 */
export async function kascade(
  nodes: readonly BroadcastNode[],
  ctx: BroadcastContext,
  o: BroadcastOptions,
): Promise<BroadcastResults> {
  const results: BroadcastResults = new Map();
  const tries = new Map<string, number>();
  let remaining = [...nodes];
  for (let round = 0; remaining.length > 0; round++) {
    if (ctx.signal.aborted) {
      for (const n of remaining) results.set(n.name, { ok: false, reason: 'aborted' });
      break;
    }
    const port = o.relayPort + (round % PORT_SPAN);
    const out = await runRelays(remaining, chainTopology(remaining.map((n) => n.name)), ctx, o, port);
    const f = remaining.findIndex((n) => out.get(n.name)?.ok !== true);
    if (f < 0) {
      for (const n of remaining) results.set(n.name, { ok: true });
      break;
    }
    const next: BroadcastNode[] = [];
    remaining.forEach((n, i) => {
      const r = out.get(n.name) ?? { ok: false, reason: 'no result', lost: false };
      if (i < f) {
        results.set(n.name, { ok: true });
        return;
      }
      if (r.ok) {
        next.push(n); // downstream of f: re-send
        return;
      }
      const t = (tries.get(n.name) ?? 0) + (r.brokenAt === undefined ? 1 : 0);
      tries.set(n.name, t);
      if (r.lost || t >= KASCADE_MAX_TRIES) {
        results.set(n.name, { ok: false, reason: r.reason });
        ctx.debug(n.name, `kascade: dropped from the chain (${r.reason})`);
      } else {
        next.push(n);
      }
    });
    ctx.logger.info(
      { round, failedAt: remaining[f]?.name, resend: next.map((n) => n.name) },
      'kascade: chain broken, re-sending to the tail',
    );
    if (next.length === remaining.length && next.every((n) => (tries.get(n.name) ?? 0) === 0)) {
      // Nothing was charged (e.g. the engine could not feed the chain): do not loop forever.
      for (const n of next)
        results.set(n.name, {
          ok: false,
          reason:
            out.get(n.name)?.ok === false
              ? (out.get(n.name) as { reason: string }).reason
              : 'broadcast failed',
        });
      break;
    }
    remaining = next;
  }
  return results;
}
