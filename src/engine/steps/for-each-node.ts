import pMap from 'p-map';
import type { MicroStepContext, NodeResult } from '../workflow/types.js';
import { errorReason } from './failure-reason.js';

/**
 * Runs `fn` for every node with bounded concurrency and turns each node's outcome into a value:
 * one node's failure (even a throw) never fails the others.
 */
export async function forEachNode(
  nodes: readonly string[],
  ctx: MicroStepContext,
  concurrency: number,
  fn: (node: string) => Promise<NodeResult>,
): Promise<Map<string, NodeResult>> {
  const results = new Map<string, NodeResult>();
  await pMap(
    nodes,
    async (node) => {
      if (ctx.signal.aborted) {
        results.set(node, { ok: false, reason: 'aborted' });
        return;
      }
      try {
        results.set(node, await fn(node));
      } catch (e) {
        ctx.logger.debug(
          { node, err: e instanceof Error ? e.message : String(e) },
          'micro-step failed on node',
        );
        results.set(node, { ok: false, reason: errorReason(ctx.micro, e) });
      }
    },
    { concurrency: Math.max(1, concurrency) },
  );
  return results;
}

export const OK: NodeResult = { ok: true };
export const ko = (reason: string): NodeResult => ({ ok: false, reason });
