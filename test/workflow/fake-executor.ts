import type {
  Implementation,
  MicroStep,
  MicroStepContext,
  MicroStepExecutor,
  NodeResult,
} from '../../src/deploy/workflow/types.js';

/** What one node does in one micro-step call. */
export type Action =
  | { ok: true }
  | { fail: string }
  | { hang: true }
  | { delayMs: number; then?: { ok: true } | { fail: string } };

export type Script = (
  node: string,
  micro: MicroStep,
  impl: Implementation,
  attempt: number,
) => Action | undefined;

export interface Call {
  micro: MicroStep;
  impl: Implementation;
  attempt: number;
  nodes: string[];
}

/**
 * A scripted MicroStepExecutor for the runner tests: each node succeeds, fails with a reason, hangs
 * until aborted, or takes N ms, as the script says (default: succeed at once). Results are reported
 * through ctx.report as each node finishes (unless `report: false`), and returned in the map.
 */
export function fakeExecutor(script: Script = () => undefined, opts: { report?: boolean } = {}) {
  const calls: Call[] = [];
  const executor: MicroStepExecutor = {
    async run(micro, nodes, ctx: MicroStepContext) {
      calls.push({ micro, impl: ctx.impl, attempt: ctx.attempt, nodes: [...nodes] });
      const results = new Map<string, NodeResult>();
      await Promise.all(
        nodes.map(async (node) => {
          const r = await perform(script(node, micro, ctx.impl, ctx.attempt) ?? { ok: true }, ctx.signal);
          results.set(node, r);
          if (opts.report !== false) ctx.report?.(node, r);
        }),
      );
      return results;
    },
  };
  return { executor, calls };
}

function perform(a: Action, signal: AbortSignal): Promise<NodeResult> {
  if ('ok' in a) return Promise.resolve({ ok: true });
  if ('fail' in a) return Promise.resolve({ ok: false, reason: a.fail });
  return new Promise((resolve) => {
    let timer: ReturnType<typeof setTimeout> | undefined;
    const aborted = () => {
      if (timer !== undefined) clearTimeout(timer);
      resolve({ ok: false, reason: 'aborted' });
    };
    if (signal.aborted) return aborted();
    if ('delayMs' in a) {
      timer = setTimeout(() => {
        signal.removeEventListener('abort', aborted);
        const then = a.then ?? { ok: true };
        resolve('ok' in then ? { ok: true } : { ok: false, reason: then.fail });
      }, a.delayMs);
    }
    signal.addEventListener('abort', aborted, { once: true });
  });
}
