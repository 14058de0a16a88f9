import type {
  Implementation,
  MicroStep,
  MicroStepContext,
  MicroStepTable,
  NodeResult,
} from '../../../src/engine/workflow/types.js';

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
 * A scripted MicroStepTable for the runner tests: each node succeeds, fails with a reason, hangs
 * until aborted, or takes N ms, as the script says (default: succeed at once). Results are reported
 * through ctx.report as each node finishes (unless `report: false`), and returned in the map.
 */
export function fakeSteps(script: Script = () => undefined, opts: { report?: boolean } = {}) {
  const calls: Call[] = [];
  const fake = {
    async run(micro: MicroStep, nodes: readonly string[], ctx: MicroStepContext) {
      calls.push({ micro, impl: ctx.impl, attempt: ctx.attempt, nodes: [...nodes] });
      const results = new Map<string, NodeResult>();
      // Nodes of one call with the same delay share one timer, so they finish in the same
      // event-loop turn whatever the machine's load (separate timers may fire in separate turns).
      const timers = new Map<number, Promise<void>>();
      const wait = (ms: number) => {
        let t = timers.get(ms);
        if (!t) {
          t = new Promise<void>((resolve) => setTimeout(resolve, ms));
          timers.set(ms, t);
        }
        return t;
      };
      await Promise.all(
        nodes.map(async (node) => {
          const r = await perform(
            script(node, micro, ctx.impl, ctx.attempt) ?? { ok: true },
            ctx.signal,
            wait,
          );
          results.set(node, r);
          if (opts.report !== false) ctx.report?.(node, r);
        }),
      );
      return results;
    },
  };
  return { steps: tableOf(fake.run), run: fake.run, calls };
}

/** A step table whose every micro-step calls `run` with its name (as the runner looks it up). */
export function tableOf(
  run: (
    micro: MicroStep,
    nodes: readonly string[],
    ctx: MicroStepContext,
  ) => Promise<Map<string, NodeResult>>,
): MicroStepTable {
  return new Proxy({} as MicroStepTable, {
    get: (_t, micro) => (nodes: readonly string[], ctx: MicroStepContext) =>
      run(micro as MicroStep, nodes, ctx),
  });
}

function perform(a: Action, signal: AbortSignal, wait: (ms: number) => Promise<void>): Promise<NodeResult> {
  if ('ok' in a) return Promise.resolve({ ok: true });
  if ('fail' in a) return Promise.resolve({ ok: false, reason: a.fail });
  return new Promise((resolve) => {
    let done = false;
    const aborted = () => {
      if (done) return;
      done = true;
      resolve({ ok: false, reason: 'aborted' });
    };
    if (signal.aborted) return aborted();
    if ('delayMs' in a) {
      void wait(a.delayMs).then(() => {
        signal.removeEventListener('abort', aborted);
        if (done) return;
        done = true;
        const then = a.then ?? { ok: true };
        resolve('ok' in then ? { ok: true } : { ok: false, reason: then.fail });
      });
    }
    signal.addEventListener('abort', aborted, { once: true });
  });
}
