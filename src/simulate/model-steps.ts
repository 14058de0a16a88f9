import type { ClusterConfig, Level, SiteConfig } from '../common/site-config-types.js';
import { nextLevel } from '../engine/power/level-command.js';
import { ArrivalBatch } from '../engine/steps/arrival-batch.js';
import { forEachNode, ko, OK } from '../engine/steps/for-each-node.js';
import type { Clock } from '../engine/workflow/clock.js';
import { evalTimeout } from '../engine/workflow/timeout-expr.js';
import type {
  MicroStep,
  MicroStepContext,
  MicroStepFn,
  MicroStepTable,
  NodeResult,
} from '../engine/workflow/types.js';
import { createWindow, type Window } from '../engine/workflow/window.js';
import { type BroadcastNode, broadcast, shapeOf } from './broadcast-model.js';
import {
  type ClusterHardware,
  DEFAULT_STEP_S,
  type FaultKind,
  type FaultStep,
  type HardwareModel,
  hardwareOf,
} from './model.js';
import { draw, sample } from './random.js';
import type { Trace } from './trace.js';

export interface ModelStepsParams {
  clock: Clock;
  model: HardwareModel;
  seed: number;
  site: SiteConfig;
  cluster: ClusterConfig;
  trace: Trace;
  /** Timeout expressions of n for wait_reboot (the cluster's unless given, as the engine's options). */
  rebootTimeout?: string;
  kexecTimeout?: string;
}

const FOREVER = Number.POSITIVE_INFINITY;

/**
 * The micro-step table of a simulated deployment: the same contract as src/engine/steps'
 * createStepTable, with each node's hardware drawn from the model instead of reached over SSH.
 * The engine's own helpers are used where they shape time: forEachNode's bounded concurrency
 * (windows.check), the shared reboot window (windows.reboot), the reboot escalation order, the
 * wait_reboot poll rounds and their grouping of nodes found back.
 */
export function createModelSteps(p: ModelStepsParams): MicroStepTable {
  const { clock, model, seed, site, trace } = p;
  const hw: ClusterHardware = hardwareOf(model, p.cluster.name);
  const window: Window = createWindow(site.windows.reboot);
  const level = new Map<string, Level>();
  const bootsAt = new Map<string, number>();
  const boots = new Map<string, number>();
  const check = site.windows.check;

  /** The node's fault in this step and attempt (boots: its boot number): the file's, else drawn. */
  const fault = (node: string, step: FaultStep, key: string, attempt: number): FaultKind | undefined => {
    const fixed = model.faultyNodes[node]?.[step];
    if (fixed && (fixed.attempts === undefined || fixed.attempts.includes(attempt))) return fixed.kind;
    const f = hw.faults[step];
    if (!f) return undefined;
    const u = draw(seed, `${key}|fault`);
    let acc = 0;
    for (const kind of ['fail', 'hang', 'lost'] as const) {
      acc += f[kind] ?? 0;
      if (u < acc) return kind;
    }
    return undefined;
  };
  const keyOf = (node: string, ctx: MicroStepContext) => `${node}|${ctx.micro}|${ctx.macro}|${ctx.attempt}`;
  const hang = (signal: AbortSignal) => clock.sleep(FOREVER, signal);
  const seconds = (s: number) => s * 1000;

  /** The node starts booting now: it answers after firmware (power reboots only) and kernel boot. */
  const startBoot = (node: string, power: boolean) => {
    const b = boots.get(node) ?? 0;
    boots.set(node, b + 1);
    const key = `${node}|boot|${b}`;
    if (fault(node, 'boot', key, b) !== undefined) return void bootsAt.set(node, FOREVER);
    const firmware = power ? sample(hw.firmware, seed, `${key}|firmware`) : 0;
    bootsAt.set(node, clock.now() + seconds(firmware + sample(hw.boot, seed, `${key}|kernel`)));
  };

  /** A reboot command at `lvl`, held in the reboot window. */
  const powerReboot = async (
    node: string,
    ctx: MicroStepContext,
    lvl: Level,
    key: string,
  ): Promise<NodeResult> => {
    await window.run(() => clock.sleep(seconds(sample(hw.powerCommand, seed, key)), ctx.signal), ctx.signal);
    if (fault(node, 'reboot', key, ctx.attempt) !== undefined)
      return ko(`${lvl} reboot failed (modelled fault)`);
    level.set(node, lvl);
    startBoot(node, true);
    return OK;
  };

  /** A micro-step whose every node takes its modelled time, windows.check at once. */
  const ordinary =
    (micro: MicroStep): MicroStepFn =>
    (nodes, ctx) =>
      forEachNode(nodes, ctx, check, async (node) => {
        const key = keyOf(node, ctx);
        const f = fault(node, micro, key, ctx.attempt);
        if (f === 'hang') await hang(ctx.signal);
        await clock.sleep(
          seconds(
            sample(
              hw.steps[micro] ?? { mean: DEFAULT_STEP_S, sd: 0, min: 0, max: DEFAULT_STEP_S },
              seed,
              key,
            ),
          ),
          ctx.signal,
        );
        return f === undefined
          ? OK
          : ko(`${micro} failed (modelled fault${f === 'lost' ? ': node lost' : ''})`);
      });

  const reboot: MicroStepFn = (nodes, ctx) =>
    forEachNode(nodes, ctx, site.windows.reboot, (node) =>
      powerReboot(node, ctx, ctx.impl === 'BootNewEnvHardReboot' ? 'hard' : 'soft', keyOf(node, ctx)),
    );

  const rebootFromDeployEnv: MicroStepFn = (nodes, ctx) =>
    forEachNode(nodes, ctx, site.windows.reboot, async (node) => {
      const key = keyOf(node, ctx);
      await window.run(
        () => clock.sleep(seconds(sample(hw.powerCommand, seed, key)), ctx.signal),
        ctx.signal,
      );
      if (fault(node, 'reboot_from_deploy_env', key, ctx.attempt) === undefined) {
        level.set(node, 'soft');
        startBoot(node, true);
        return OK;
      }
      // As the engine: a node that cannot be told to reboot gets the cluster's hard reboot.
      return powerReboot(node, ctx, 'hard', `${key}|hard`);
    });

  const kexec: MicroStepFn = (nodes, ctx) =>
    forEachNode(nodes, ctx, check, async (node) => {
      const key = keyOf(node, ctx);
      await clock.sleep(seconds(sample(hw.kexec, seed, key)), ctx.signal);
      if (fault(node, 'kexec', key, ctx.attempt) !== undefined) return ko('kexec failed (modelled fault)');
      level.delete(node); // a kexec is no power level: a node not back after it is KO
      startBoot(node, false);
      return OK;
    });

  const sendEnvironment: MicroStepFn = async (nodes, ctx) => {
    const shape = shapeOf(ctx.impl);
    const members: BroadcastNode[] = nodes.map((name) => ({ name, nicMBs: hw.nicMBs, diskMBs: hw.diskMBs }));
    const out = broadcast(members, shape, {
      imageMB: model.imageMB,
      hopLatencyMs: model.hopLatencyMs,
      engineNicMBs: model.engineNicMBs,
      fault: (node, round) => {
        const f = fault(node, 'send_environment', `${keyOf(node, ctx)}|${round}`, ctx.attempt);
        return f;
      },
      where: (node, round) => draw(seed, `${keyOf(node, ctx)}|${round}|where`),
    });
    try {
      await clock.sleep(out.durationMs, ctx.signal);
    } catch {
      return new Map(nodes.map((n) => [n, ko('aborted')]));
    }
    return out.results;
  };

  const waitReboot: MicroStepFn = (nodes, ctx) => waitRebootModel(nodes, ctx);

  /** The engine's wait_reboot rounds (src/engine/steps/wait-reboot.ts) against modelled boot times. */
  async function waitRebootModel(
    nodes: readonly string[],
    ctx: MicroStepContext,
  ): Promise<Map<string, NodeResult>> {
    const isKexec = ctx.impl === 'SetDeploymentEnvKexec' || ctx.impl === 'BootNewEnvKexec';
    const expr = isKexec
      ? (p.kexecTimeout ?? p.cluster.timeouts.kexec)
      : (p.rebootTimeout ?? p.cluster.timeouts.reboot);
    const timeoutMs = seconds(evalTimeout(expr, nodes.length));
    const poll = site.waitReboot.pollMs;
    const results = new Map<string, NodeResult>();
    const batch = new ArrivalBatch(clock, poll, ctx.report);
    const settle = (node: string, r: NodeResult) => {
      results.set(node, r);
      batch.add(node, r);
    };
    const deadline = new Map<string, number>();
    for (const node of nodes) deadline.set(node, clock.now() + site.waitReboot.initialDelayMs + timeoutMs);
    let pending = [...nodes];
    const escalate = async (node: string) => {
      const last = level.get(node);
      const next = last === undefined ? undefined : nextLevel(last);
      const sec = Math.round(timeoutMs / 1000);
      if (next === undefined) {
        trace.rebootGiveUps++;
        return settle(
          node,
          ko(
            last === undefined
              ? `not back after ${sec}s`
              : `not back after a very_hard reboot within ${sec}s`,
          ),
        );
      }
      trace.escalations++;
      const r = await powerReboot(node, ctx, next, `${keyOf(node, ctx)}|${next}`);
      if (!r.ok) return settle(node, r);
      deadline.set(node, clock.now() + timeoutMs);
    };
    try {
      if (site.waitReboot.initialDelayMs > 0) await clock.sleep(site.waitReboot.initialDelayMs, ctx.signal);
      while (pending.length > 0) {
        const roundStart = clock.now();
        batch.startRound();
        for (const node of pending) {
          if ((bootsAt.get(node) ?? FOREVER) <= roundStart) {
            level.delete(node);
            settle(node, OK);
          }
        }
        const now = clock.now();
        const late = pending.filter((n) => !results.has(n) && now >= (deadline.get(n) ?? 0));
        await Promise.all(late.map(escalate));
        pending = pending.filter((n) => !results.has(n));
        batch.endRound(pending.length);
        const rest = poll - (clock.now() - roundStart);
        if (pending.length > 0 && rest > 0) await clock.sleep(rest, ctx.signal);
      }
    } catch (e) {
      if (!ctx.signal.aborted) throw e;
      for (const node of pending) if (!results.has(node)) results.set(node, ko('aborted'));
    } finally {
      batch.flush();
    }
    return results;
  }

  const dummy: MicroStepFn = async (nodes) => new Map(nodes.map((n) => [n, OK]));

  const table: Record<MicroStep, MicroStepFn> = {
    switch_pxe: ordinary('switch_pxe'),
    set_vlan: ordinary('set_vlan'),
    reboot,
    reboot_from_deploy_env: rebootFromDeployEnv,
    wait_reboot: waitReboot,
    send_deployment_kernel: ordinary('send_deployment_kernel'),
    kexec,
    check_nodes: ordinary('check_nodes'),
    send_key_in_deploy_env: ordinary('send_key_in_deploy_env'),
    create_partition_table: ordinary('create_partition_table'),
    format_deploy_part: ordinary('format_deploy_part'),
    mount_deploy_part: ordinary('mount_deploy_part'),
    format_tmp_part: ordinary('format_tmp_part'),
    format_swap_part: ordinary('format_swap_part'),
    manage_preinstall: ordinary('manage_preinstall'),
    send_environment: sendEnvironment,
    decompress_environment: ordinary('decompress_environment'),
    manage_admin_post_install: ordinary('manage_admin_post_install'),
    manage_user_post_install: ordinary('manage_user_post_install'),
    check_kernel_files: ordinary('check_kernel_files'),
    send_key: ordinary('send_key'),
    install_bootloader: ordinary('install_bootloader'),
    sync: ordinary('sync'),
    umount_deploy_part: ordinary('umount_deploy_part'),
    dummy,
  };
  return traced(table, clock, trace);
}

/** Records every node's span of every call (start of the call to its report or the call's end). */
function traced(table: Record<MicroStep, MicroStepFn>, clock: Clock, trace: Trace): MicroStepTable {
  const out = {} as Record<MicroStep, MicroStepFn>;
  for (const [micro, fn] of Object.entries(table) as [MicroStep, MicroStepFn][]) {
    out[micro] = async (nodes, ctx) => {
      const start = clock.now();
      const early = new Map<string, number>();
      const report = ctx.report;
      const c: MicroStepContext = report
        ? {
            ...ctx,
            report: (n, r) => {
              if (!early.has(n)) early.set(n, clock.now());
              report(n, r);
            },
          }
        : ctx;
      const res = await fn(nodes, c);
      const end = clock.now();
      for (const n of nodes) {
        trace.add(n, {
          macro: ctx.macro,
          impl: ctx.impl,
          micro,
          attempt: ctx.attempt,
          start,
          end: early.get(n) ?? end,
          ok: res.get(n)?.ok === true,
        });
      }
      return res;
    };
  }
  return out;
}
