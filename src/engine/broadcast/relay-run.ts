import { nodeCommands } from '../../formats/node-commands.js';
import { isSshError } from '../ssh/ssh-error.js';
import { errorReason, exitReason } from '../steps/failure-reason.js';
import { connectRelay, feedImage } from './feed-relay.js';
import { StderrWatch } from './stderr-watch.js';
import type { BroadcastContext, BroadcastNode, BroadcastOptions } from './types.js';
import { sinkLabel } from './unicast.js';

const LISTENING = /kaploy-relay: listening on /;

/** The sink's own exit status, as reportingSink prints it (undefined if it never finished). */
/** Stderr without the relay's own progress lines: what a KO reason should show. */
function sinkStderr(stderr: string): string {
  return stderr
    .split('\n')
    .filter((l) => !/^kaploy-relay: listening on |^kaploy-sink-status \d+/.test(l))
    .join('\n');
}

function sinkStatus(stderr: string): number | undefined {
  const m = /kaploy-sink-status (\d+)/.exec(stderr);
  return m ? Number(m[1]) : undefined;
}

/**
 * A pipelined relay topology: the engine streams the image into each root's relay; each relay
 * writes it to its disk while forwarding it to its children (a chain when every node has at most
 * one child, a tree otherwise). Every node's result is its relay command's exit status.
 */
export interface RelayTopology {
  roots: string[];
  children: ReadonlyMap<string, readonly string[]>;
}

/**
 * `lost`: the node itself is unusable (its SSH connection failed), retrying it is pointless.
 * `brokenAt`: the node's stream came through a failed node, so its own status proves nothing.
 */
export type RelayOutcome = { ok: true } | { ok: false; reason: string; lost: boolean; brokenAt?: string };

export function chainTopology(names: readonly string[]): RelayTopology {
  const children = new Map<string, string[]>();
  names.forEach((n, i) => {
    const next = names[i + 1];
    children.set(n, next ? [next] : []);
  });
  return { roots: names.length > 0 ? [names[0] as string] : [], children };
}

export async function runRelays(
  nodes: readonly BroadcastNode[],
  topo: RelayTopology,
  ctx: BroadcastContext,
  o: BroadcastOptions,
  port: number,
): Promise<Map<string, RelayOutcome>> {
  const byName = new Map(nodes.map((n) => [n.name, n]));
  const parent = new Map<string, string>();
  for (const [p, cs] of topo.children) for (const c of cs) parent.set(c, p);
  const own = new Map<string, RelayOutcome>();
  const stop = new Map(nodes.map((n) => [n.name, new AbortController()]));
  const label = (n: BroadcastNode) => sinkLabel(n.sink);

  // One failed node dooms the streams of everything below it: stop those relays at once rather
  // than let them wait for data that will never come.
  const stopBelow = (name: string, reason: string) => {
    for (const c of topo.children.get(name) ?? []) {
      stop.get(c)?.abort(new Error(reason));
      stopBelow(c, reason);
    }
  };

  // Relays announce `kaploy-relay: listening on ADDR:PORT` on stderr: the engine feeds the roots
  // only once every relay listens, because a relay connects to its children as soon as its own
  // upstream arrives.
  const ready = new Map<string, { promise: Promise<void>; resolve: () => void }>();
  for (const n of nodes) {
    let resolve!: () => void;
    const promise = new Promise<void>((r) => {
      resolve = r;
    });
    ready.set(n.name, { promise, resolve });
  }

  const runOne = async (n: BroadcastNode): Promise<void> => {
    const next = (topo.children.get(n.name) ?? []).map(
      (c) => `${(byName.get(c) as BroadcastNode).address}:${port}`,
    );
    const cmd = nodeCommands.chainRelay(port, next, nodeCommands.reportingSink(n.sink));
    const signal = AbortSignal.any([ctx.signal, (stop.get(n.name) as AbortController).signal]);
    const stderr: StderrWatch = new StderrWatch([
      { pattern: LISTENING, onMatch: () => ready.get(n.name)?.resolve() },
      {
        // The node's write failed while the relay still runs: a relay that stops reading when its
        // sink dies would stall the whole chain, so end this node (and what is below it) now.
        pattern: /kaploy-sink-status ([1-9]\d*)/,
        onMatch: (m) => {
          const why = exitReason(label(n), {
            exitCode: Number(m[1]),
            stdout: '',
            stderr: sinkStderr(stderr.text()),
          });
          stop.get(n.name)?.abort(new Error(why));
        },
      },
    ]);
    let out: RelayOutcome;
    try {
      const r = await ctx.pool.exec(n.target, cmd, { signal, stderr });
      const res = { ...r, stderr: sinkStderr(stderr.text()) };
      out =
        r.exitCode === 0 || sinkStatus(stderr.text()) === 0
          ? { ok: true }
          : { ok: false, reason: exitReason(label(n), res), lost: false };
      if (r.exitCode !== 0 && out.ok) ctx.debug(n.name, 'image written; forwarding to the next node failed');
    } catch (e) {
      const lost = isSshError(e) && e.kind !== 'aborted' && e.kind !== 'timeout';
      const why = stop.get(n.name)?.signal.aborted
        ? String((stop.get(n.name)?.signal.reason as Error)?.message)
        : errorReason(label(n), e);
      out = { ok: false, reason: why, lost };
    }
    if (stderr.text().trim()) ctx.debug(n.name, `relay stderr: ${stderr.text().trim()}`);
    own.set(n.name, out);
    ready.get(n.name)?.resolve();
    if (!out.ok) stopBelow(n.name, `upstream ${n.name} failed`);
  };

  const allReady = async (): Promise<void> => {
    const timer = setTimeout(() => {
      for (const n of nodes) {
        if (!own.has(n.name) && !readySeen.has(n.name))
          stop
            .get(n.name)
            ?.abort(new Error(`the relay on ${n.name} did not start within ${o.relayConnectTimeoutMs} ms`));
      }
    }, o.relayConnectTimeoutMs);
    try {
      await Promise.all(nodes.map((n) => ready.get(n.name)?.promise.then(() => readySeen.add(n.name))));
    } finally {
      clearTimeout(timer);
    }
  };
  const readySeen = new Set<string>();

  const feedOne = async (root: BroadcastNode): Promise<void> => {
    const signal = AbortSignal.any([ctx.signal, (stop.get(root.name) as AbortController).signal]);
    try {
      await allReady();
      const sock = await connectRelay(root.address, port, Date.now() + o.relayConnectTimeoutMs, signal, () =>
        own.has(root.name) ? `the relay on ${root.name} ended before the image was sent` : undefined,
      );
      const bytes = await feedImage(o.imagePath, sock, signal, ctx.sent);
      ctx.logger.debug({ node: root.name, bytes }, 'image sent to relay');
    } catch (e) {
      if (own.has(root.name) || ctx.signal.aborted) return; // the relay's own status says it
      const reason = `engine could not send the image: ${(e as Error).message}`;
      ctx.debug(root.name, reason);
      stop.get(root.name)?.abort(new Error(reason));
      feedFailure.set(root.name, reason);
    }
  };
  const feedFailure = new Map<string, string>();

  const execs = nodes.map((n) => runOne(n));
  const feeds = topo.roots.map((r) => feedOne(byName.get(r) as BroadcastNode));
  await Promise.all([...execs, ...feeds]);

  const final = new Map<string, RelayOutcome>();
  for (const n of nodes) {
    const feedFail = (() => {
      for (let p: string | undefined = n.name; p !== undefined; p = parent.get(p)) {
        const f = feedFailure.get(p);
        if (f) return { root: p, reason: f };
      }
      return undefined;
    })();
    let failedAbove: string | undefined;
    for (let p = parent.get(n.name); p !== undefined; p = parent.get(p)) {
      if (own.get(p)?.ok === false) failedAbove = p; // keep the highest failed ancestor
    }
    if (failedAbove !== undefined) {
      final.set(n.name, {
        ok: false,
        reason: `broadcast broken upstream at ${failedAbove}`,
        lost: false,
        brokenAt: failedAbove,
      });
    } else if (feedFail && feedFail.root !== n.name) {
      final.set(n.name, { ok: false, reason: feedFail.reason, lost: false, brokenAt: feedFail.root });
    } else if (feedFail) {
      final.set(n.name, { ok: false, reason: feedFail.reason, lost: false });
    } else {
      final.set(n.name, own.get(n.name) ?? { ok: false, reason: 'no result', lost: false });
    }
  }
  return final;
}
