import type { Command } from 'commander';
import { KaployError } from '../common/errors.js';
import { loadSiteConfig } from '../common/site-config.js';
import { compareHelp, compareVariants, parseCompare } from '../simulate/compare.js';
import { defaultHardwareModel, type HardwareModel, loadHardwareModel } from '../simulate/model.js';
import { renderComparison, renderExpectation, renderResult } from '../simulate/report.js';
import { expectation, MAX_RUNS } from '../simulate/runs.js';
import { type SimulationInput, simulate } from '../simulate/simulate.js';
import { generateSite, MAX_GENERATED_CLUSTERS, MAX_GENERATED_NODES } from '../simulate/site-gen.js';
import { collect, intInRange } from './common/options.js';
import type { SubcommandContext } from './common/subcommand.js';

interface SimulateArgs {
  site?: string;
  model?: string;
  nodes?: number;
  clusters: number;
  seed: number;
  forceSteps?: string;
  rebootClassicalTimeout?: string;
  rebootKexecTimeout?: string;
  runs: number;
  compare: string[];
  json?: boolean;
}

const MODEL_HELP = `
The model: the engine's workflow runner runs the real plan (automata or --force-steps, retries,
instance timeouts, fallbacks, the Kexec/Classical substitutions), on a discrete-event clock, with
each micro-step's time per node drawn from the hardware model instead of reaching a node: a
reboot command (in the reboot window) then firmware + kernel boot (kexec skips the firmware),
wait_reboot's poll rounds and timeouts (expressions of n) with escalation soft -> hard ->
very_hard, the broadcast from the image size and its shape (chain: one pipelined transfer at the
slowest NIC or disk, plus a latency per relay; tree: inner nodes send twice, log2(n)+1 hops;
kascade: a failed node's tail re-sent in a new round), every other micro-step windows.check nodes
at once. Faults per micro-step and node: fail (KO at the step's end), hang (never answers: the
instance timeout cuts it), lost (as fail; not retried by kascade); boot: fail = never comes back.
Draws are keyed by node, step and attempt, so a seed gives the same run, and --compare variants
see the same hardware.

The hardware model file (YAML; every key optional; docs/simulate.md, docs/simulate-model.yaml):
  image_mb: 1500
  hop_latency_ms: 5
  engine_nic_mb_s: 1170
  defaults:
    firmware_s: { mean: 90, sd: 10, min: 60, max: 180 }
    boot_s: 35
    kexec_s: 3
    power_command_s: 2
    disk_mb_s: 180
    nic_mb_s: 117
    steps: { format_deploy_part: 6, sync: 3 }
    faults: { boot: { fail: 0.002 }, send_environment: { fail: 0.001, hang: 0 } }
  clusters:
    sim-2: { disk_mb_s: 90 }
  faulty_nodes:
    sim-1-7.sim: { boot: fail, format_deploy_part: fail@0 }

Examples:
  kaploy simulate --nodes 10000 --clusters 5 --model docs/simulate-model.yaml
  kaploy simulate --site /etc/kaploy/site.yaml --model hw.yaml --compare broadcast=chain,tree,kascade
  kaploy simulate --nodes 2000 --compare boot=kexec,classical --compare window=10,50 --json
`;

/** `kaploy simulate`: predicts a deployment's times from a site and a hardware model. */
export function registerSimulate(program: Command, ctx: SubcommandContext): void {
  program
    .command('simulate')
    .description(
      "predict a deployment's total and per-macro-step times, its critical path, KO nodes and timeouts, from a site configuration and a hardware model (no node is touched)",
    )
    .option('--site <file>', 'site configuration (the engine’s site.yaml)')
    .option('--model <file>', 'hardware model file (default: the built-in model of docs/simulate.md)')
    .option(
      '--nodes <n>',
      `instead of --site: a generated site of N nodes (1..${MAX_GENERATED_NODES})`,
      intInRange(1, MAX_GENERATED_NODES),
    )
    .option(
      '--clusters <c>',
      `clusters of the generated site (1..${MAX_GENERATED_CLUSTERS})`,
      intInRange(1, MAX_GENERATED_CLUSTERS),
      1,
    )
    .option('--seed <n>', 'seed of the draws', intInRange(0, 2 ** 31 - 1), 1)
    .option(
      '--force-steps <steps>',
      'the workflow of every cluster, in --force-steps syntax (default: each cluster’s automata)',
    )
    .option(
      '--reboot-classical-timeout <expr>',
      'wait_reboot timeout after a reboot, an expression of n (default: the cluster’s)',
    )
    .option(
      '--reboot-kexec-timeout <expr>',
      'wait_reboot timeout after a kexec, an expression of n (default: the cluster’s)',
    )
    .option(
      '--runs <n>',
      `simulate N seeds from --seed: mean total and expected KO nodes (1..${MAX_RUNS})`,
      intInRange(1, MAX_RUNS),
      1,
    )
    .option(
      '--compare <axis=values>',
      `what-if variants, repeatable (their product): ${compareHelp()}`,
      collect,
      [],
    )
    .option('--json', 'print the result as JSON')
    .addHelpText('after', MODEL_HELP)
    .action(async (o: SimulateArgs) => {
      if ((o.site === undefined) === (o.nodes === undefined))
        throw new KaployError('KAPLOY_OPTION', 'give either --site FILE or --nodes N', { key: 'site' });
      const site = o.site
        ? loadSiteConfig(o.site)
        : generateSite({ nodes: o.nodes as number, clusters: o.clusters });
      const model: HardwareModel = o.model ? loadHardwareModel(o.model) : defaultHardwareModel();
      const input: SimulationInput = {
        site,
        model,
        seed: o.seed,
        signal: ctx.signal,
        ...(o.forceSteps ? { forceSteps: o.forceSteps } : {}),
        ...(o.rebootClassicalTimeout ? { rebootTimeout: o.rebootClassicalTimeout } : {}),
        ...(o.rebootKexecTimeout ? { kexecTimeout: o.rebootKexecTimeout } : {}),
      };
      const write = (s: string) => process.stdout.write(s);
      if (o.compare.length > 0) {
        const rows = await compareVariants(input, parseCompare(o.compare), ctx.signal);
        write(o.json ? `${JSON.stringify(rows, null, 2)}\n` : renderComparison(rows));
        return;
      }
      if (o.runs > 1) {
        const e = await expectation(input, o.runs, ctx.signal);
        write(o.json ? `${JSON.stringify(e, null, 2)}\n` : renderExpectation(e, o.seed));
        return;
      }
      const r = await simulate(input);
      write(o.json ? `${JSON.stringify(r, null, 2)}\n` : renderResult(r, o.seed));
    });
}
