import type { ExecOptions, ExecResult } from '../ssh/types.js';
import type { MicroStepContext, NodeResult } from '../workflow/types.js';
import { errorReason, exitReason, tail } from './failure-reason.js';
import type { StepEnv } from './step-env.js';

export interface NodeExecOptions {
  /** Names the command in KO reasons (`tar exited with code 2: ...`). */
  label: string;
  stdin?: ExecOptions['stdin'];
  /** Default: the tuning's nodeCommandTimeoutMs (0 = bounded by the step's signal only). */
  timeoutMs?: number;
  trustOnFirstUse?: boolean;
}

/** Runs one node command; non-zero exit and transport failures come back as a KO value. */
export async function execOnNode(
  env: StepEnv,
  ctx: MicroStepContext,
  node: string,
  command: string,
  o: NodeExecOptions,
): Promise<{ result: NodeResult; exec?: ExecResult }> {
  const timeoutMs = o.timeoutMs ?? env.tuning.nodeCommandTimeoutMs;
  if (env.spec.debug) ctx.debug(node, `$ ${command}`);
  let r: ExecResult;
  try {
    r = await env.pool.exec(env.target(node), command, {
      signal: ctx.signal,
      ...(o.stdin !== undefined ? { stdin: o.stdin } : {}),
      ...(timeoutMs > 0 ? { timeoutMs } : {}),
      ...(o.trustOnFirstUse ? { trustOnFirstUse: true } : {}),
    });
  } catch (e) {
    const reason = errorReason(o.label, e);
    if (env.spec.debug) ctx.debug(node, `! ${reason}`);
    return { result: { ok: false, reason } };
  }
  if (env.spec.debug) {
    if (r.stdout.trim()) ctx.debug(node, `stdout: ${tail(r.stdout, 2000)}`);
    if (r.stderr.trim()) ctx.debug(node, `stderr: ${tail(r.stderr, 2000)}`);
  }
  if (r.exitCode === 0) return { result: { ok: true }, exec: r };
  return { result: { ok: false, reason: exitReason(o.label, r) }, exec: r };
}

export async function runOnNode(
  env: StepEnv,
  ctx: MicroStepContext,
  node: string,
  command: string,
  o: NodeExecOptions,
): Promise<NodeResult> {
  return (await execOnNode(env, ctx, node, command, o)).result;
}
