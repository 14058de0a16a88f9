import { createReadStream } from 'node:fs';
import pMap from 'p-map';
import { errorReason, exitReason } from '../steps/failure-reason.js';
import type { BroadcastContext, BroadcastNode, BroadcastOptions, BroadcastResults } from './types.js';

/**
 * The baseline: the engine streams the image to every node over its SSH connection (one read of
 * the file per node, `concurrency` at once). Total time grows with n / concurrency; the engine's
 * uplink is the bound.
 */
export async function unicast(
  nodes: readonly BroadcastNode[],
  ctx: BroadcastContext,
  o: BroadcastOptions,
): Promise<BroadcastResults> {
  const results: BroadcastResults = new Map();
  await pMap(
    nodes,
    async (n) => {
      if (ctx.signal.aborted) {
        results.set(n.name, { ok: false, reason: 'aborted' });
        return;
      }
      try {
        const stdin = createReadStream(o.imagePath);
        const { sent } = ctx;
        if (sent) stdin.on('data', (chunk) => sent(chunk.length));
        const r = await ctx.pool.exec(n.target, n.sink, {
          stdin,
          signal: ctx.signal,
        });
        results.set(
          n.name,
          r.exitCode === 0 ? { ok: true } : { ok: false, reason: exitReason(sinkLabel(n.sink), r) },
        );
      } catch (e) {
        results.set(n.name, { ok: false, reason: errorReason(sinkLabel(n.sink), e) });
      }
    },
    { concurrency: Math.max(1, o.concurrency) },
  );
  return results;
}

/** `tar` or `dd`: what the reasons name (the decompressor's failure shows in its stderr). */
export function sinkLabel(sink: string): string {
  return /\|\s*dd\b/.test(sink) ? 'dd' : /\|\s*tar\b/.test(sink) ? 'tar' : 'image writer';
}
