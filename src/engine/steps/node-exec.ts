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

// The leaves of a node command: the options `pool.exec` is given, and its answer (or its error)
// as the node's result. A step calls `env.pool.exec` itself between the two (send-key does), or
// through execOnNode/runOnNode, which are the same three lines for every other step.

/** The pool's options for one node command (and, with --debug, the command in the node's log). */
export function execOptions(
  env: StepEnv,
  ctx: MicroStepContext,
  node: string,
  command: string,
  o: NodeExecOptions,
): ExecOptions {
  const timeoutMs = o.timeoutMs ?? env.tuning.nodeCommandTimeoutMs;
  if (env.spec.debug) ctx.debug(node, `$ ${command}`);
  return {
    signal: ctx.signal,
    ...(o.stdin !== undefined ? { stdin: o.stdin } : {}),
    ...(timeoutMs > 0 ? { timeoutMs } : {}),
    ...(o.trustOnFirstUse ? { trustOnFirstUse: true } : {}),
  };
}

/** A command that could not run (transport, timeout, abort) as the node's KO value. */
export function execFailure(env: StepEnv, ctx: MicroStepContext, node: string, label: string, e: unknown) {
  const reason = errorReason(label, e);
  if (env.spec.debug) ctx.debug(node, `! ${reason}`);
  return { result: { ok: false, reason } as NodeResult };
}

/** A command's answer as the node's result: non-zero exit is KO with the command's tail. */
export function execOutcome(
  env: StepEnv,
  ctx: MicroStepContext,
  node: string,
  label: string,
  r: ExecResult,
): { result: NodeResult; exec: ExecResult } {
  if (env.spec.debug) {
    if (r.stdout.trim()) ctx.debug(node, `stdout: ${tail(r.stdout, 2000)}`);
    if (r.stderr.trim()) ctx.debug(node, `stderr: ${tail(r.stderr, 2000)}`);
  }
  if (r.exitCode === 0) return { result: { ok: true }, exec: r };
  return { result: { ok: false, reason: exitReason(label, r) }, exec: r };
}

/** Runs one node command; non-zero exit and transport failures come back as a KO value. */
export async function execOnNode(
  env: StepEnv,
  ctx: MicroStepContext,
  node: string,
  command: string,
  o: NodeExecOptions,
): Promise<{ result: NodeResult; exec?: ExecResult }> {
  let r: ExecResult;
  try {
    r = await env.pool.exec(env.target(node), command, execOptions(env, ctx, node, command, o));
  } catch (e) {
    return execFailure(env, ctx, node, o.label, e);
  }
  return execOutcome(env, ctx, node, o.label, r);
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
