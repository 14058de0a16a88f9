import { statSync } from 'node:fs';
import { nodeCommands } from '../../formats/node-commands.js';
import { chain } from '../broadcast/chain.js';
import { kascade } from '../broadcast/kascade.js';
import { tree } from '../broadcast/tree.js';
import type {
  BroadcastContext,
  BroadcastNode,
  BroadcastOptions,
  BroadcastResults,
} from '../broadcast/types.js';
import { unicast } from '../broadcast/unicast.js';
import type { MicroStepContext, NodeResult } from '../workflow/types.js';
import { broadcastProgress } from './broadcast-progress.js';
import { ko, OK } from './for-each-node.js';
import { checkImageContent } from './image-content.js';
import type { StepEnv } from './step-env.js';

export type BroadcastMethod = 'unicast' | 'chain' | 'kascade' | 'tree' | 'none';

/** The broadcast each BroadcastEnv implementation uses (an engine may force one, e.g. unicast). */
function broadcastMethodOf(impl: MicroStepContext['impl']): BroadcastMethod {
  switch (impl) {
    case 'BroadcastEnvChain':
    case 'BroadcastEnvKastafior':
      return 'chain';
    case 'BroadcastEnvKascade':
      return 'kascade';
    case 'BroadcastEnvTree':
      return 'tree';
    case 'BroadcastEnvDummy':
      return 'none';
    default:
      return 'chain';
  }
}

/** What writes the image on a node: tar extraction into the mounted partition, or dd onto it. */
function sinkFor(env: StepEnv, node: string): string {
  const img = env.spec.env.image;
  return img.kind === 'tar'
    ? nodeCommands.extractTar(img.compression, env.extractDir)
    : nodeCommands.writeDd(img.compression, env.deployDevice(node));
}

/**
 * send_environment: the image goes to every node and is written there in-stream (decompressed on
 * the fly, so decompress_environment has nothing left to do).
 */
export async function sendEnvironment(
  env: StepEnv,
  nodes: readonly string[],
  ctx: MicroStepContext,
  forced?: BroadcastMethod,
): Promise<Map<string, NodeResult>> {
  const method = forced ?? broadcastMethodOf(ctx.impl);
  if (method === 'none') return new Map(nodes.map((n) => [n, OK]));
  const problem = await checkImageContent(env.spec.env.image, ctx.signal);
  if (problem !== undefined) return new Map(nodes.map((n) => [n, ko(problem)]));
  const targets: BroadcastNode[] = nodes.map((n) => ({
    name: n,
    target: env.target(n),
    address: env.node(n).address,
    sink: sinkFor(env, n),
  }));
  const { onBroadcastBytes } = env.deps;
  const progress = broadcastProgress(
    method,
    statSync(env.spec.env.image.path, { throwIfNoEntry: false })?.size ?? 0,
    {
      ...(ctx.note ? { note: (text: string) => ctx.note?.(text, 3) } : {}),
      ...(onBroadcastBytes ? { count: (bytes: number) => onBroadcastBytes(method, bytes) } : {}),
    },
  );
  const bctx: BroadcastContext = {
    pool: env.pool,
    signal: ctx.signal,
    logger: ctx.logger,
    debug: ctx.debug,
    sent: progress.sent,
  };
  const o: BroadcastOptions = {
    imagePath: env.spec.env.image.path,
    relayPort: env.tuning.relayPort,
    relayConnectTimeoutMs: env.tuning.relayConnectTimeoutMs,
    concurrency: env.tuning.unicastConcurrency,
  };
  const started = Date.now();
  let res: BroadcastResults;
  if (method === 'unicast') res = await unicast(targets, bctx, o);
  else if (method === 'kascade') res = await kascade(targets, bctx, o);
  else if (method === 'tree') res = await tree(targets, bctx, { ...o, multiNext: env.tuning.relayMultiNext });
  else res = await chain(targets, bctx, o);
  progress.end();
  const sec = Math.round((Date.now() - started) / 1000);
  ctx.logger.info(
    { method, nodes: nodes.length, durationMs: Date.now() - started },
    `Broadcast time: ${sec}s`,
  );
  return res;
}

/** decompress_environment: images are decompressed while they arrive (see send_environment). */
export async function decompressEnvironment(_env: StepEnv, nodes: readonly string[], ctx: MicroStepContext) {
  for (const n of nodes) ctx.debug(n, 'image already decompressed in-stream by send_environment');
  return new Map(nodes.map((n) => [n, OK]));
}
