import { readFile } from 'node:fs/promises';
import path from 'node:path';
import type { RebootKind } from '../../api/reboot-request.js';
import type { Level } from '../../common/site-config-types.js';
import { type BootTarget, parseProfile, profileFileName, renderProfile } from '../../formats/pxe-profile.js';
import { writeProfileAtomic } from '../boot/write-profile.js';
import type { OperationRun } from '../operations/operation-kind.js';
import { forEachNode, ko, OK } from '../steps/for-each-node.js';
import { powerReboot, type RebootDeps } from '../steps/reboot.js';
import { sendKeyInDeployEnv } from '../steps/send-key.js';
import type { StepEnv } from '../steps/step-env.js';
import { switchPxe } from '../steps/switch-pxe.js';
import { waitReboot } from '../steps/wait-reboot.js';
import { evalTimeout } from '../workflow/timeout-expr.js';
import type { MacroStep, NodeResult } from '../workflow/types.js';
import { microStepContext } from './node-step-env.js';
import type { Stage } from './run-stages.js';

export interface StageParams {
  kind: RebootKind;
  level: Level;
  env: StepEnv;
  rd: RebootDeps;
  run: OperationRun;
  /** set_pxe: what the user's profile boots. */
  pxeTarget?: BootTarget;
  keys: boolean;
}

/** What a boot target ends in, as wait_reboot's macro says it. */
const macroFor = (t: BootTarget | undefined): MacroStep =>
  t?.kind === 'deploy_env' ? 'SetDeploymentEnv' : 'BootNewEnv';

/**
 * The micro-steps of each reboot kind (Kadeploy's reboot workflows):
 * simple = reboot, wait_reboot (onto whatever the PXE profile says);
 * set_pxe = set_pxe (the user's profile), reboot, wait_reboot;
 * deploy_env = switch_pxe, reboot, wait_reboot, send_key_in_deploy_env (SetDeploymentEnvUntrusted's);
 * recorded_env = switch_pxe (to the partition), reboot, wait_reboot.
 */
export function rebootStages(p: StageParams): Stage[] {
  const { env, rd, run } = p;
  const ctx = (macro: MacroStep, micro: Parameters<typeof microStepContext>[2]) =>
    microStepContext(run, macro, micro, run.log);
  const reboot: Stage = {
    micro: 'reboot',
    run: (nodes) => {
      const c = ctx('BootNewEnv', 'reboot');
      return forEachNode(nodes, c, env.spec.site.windows.reboot, (n) => powerReboot(env, c, rd, n, p.level));
    },
  };
  const waitFor = (macroOf: (nodes: readonly string[]) => Promise<Map<string, MacroStep>>): Stage => ({
    micro: 'wait_reboot',
    run: async (nodes) => {
      const macros = await macroOf(nodes);
      const out = new Map<string, NodeResult>();
      for (const macro of ['SetDeploymentEnv', 'BootNewEnv'] as const) {
        const group = nodes.filter((n) => macros.get(n) === macro);
        if (group.length === 0) continue;
        for (const [n, x] of await waitReboot(env, group, ctx(macro, 'wait_reboot'), rd, evalTimeout))
          out.set(n, x);
      }
      return out;
    },
  });
  const fixed = (m: MacroStep) => async (nodes: readonly string[]) => new Map(nodes.map((n) => [n, m]));
  switch (p.kind) {
    case 'simple':
      return [reboot, waitFor((nodes) => currentTargets(env, nodes))];
    case 'set_pxe': {
      const target = p.pxeTarget as BootTarget;
      const setPxe: Stage = {
        micro: 'set_pxe',
        run: (nodes) =>
          forEachNode(nodes, ctx('BootNewEnv', 'switch_pxe'), env.nodeConcurrency, async (n) => {
            const file = profileFileName(env.spec.site.pxeFileNaming, env.node(n));
            try {
              await writeProfileAtomic(
                env.spec.site.bootDir,
                file,
                renderProfile(target, `${run.wid} SetPXE ${n}`),
              );
            } catch (e) {
              return ko(`cannot write PXE profile ${file}: ${(e as Error).message}`);
            }
            return OK;
          }),
      };
      return [setPxe, reboot, waitFor(fixed(macroFor(target)))];
    }
    case 'deploy_env':
      return [
        { micro: 'switch_pxe', run: (nodes) => switchPxe(env, nodes, ctx('SetDeploymentEnv', 'switch_pxe')) },
        reboot,
        waitFor(fixed('SetDeploymentEnv')),
        ...(p.keys
          ? [
              {
                micro: 'send_key_in_deploy_env' as const,
                run: (nodes: readonly string[]) =>
                  sendKeyInDeployEnv(env, nodes, ctx('SetDeploymentEnv', 'send_key_in_deploy_env')),
              },
            ]
          : []),
      ];
    case 'recorded_env':
      return [
        { micro: 'switch_pxe', run: (nodes) => switchPxe(env, nodes, ctx('BootNewEnv', 'switch_pxe')) },
        reboot,
        waitFor(fixed('BootNewEnv')),
      ];
  }
}

/** What each node's PXE profile (or the `default` one) boots now: a simple reboot lands there. */
async function currentTargets(env: StepEnv, nodes: readonly string[]): Promise<Map<string, MacroStep>> {
  const site = env.spec.site;
  const read = (f: string) => readFile(path.join(site.bootDir, f), 'utf8').catch(() => undefined);
  const fallback = await read('default');
  const out = new Map<string, MacroStep>();
  for (const n of nodes) {
    const text = (await read(profileFileName(site.pxeFileNaming, env.node(n)))) ?? fallback;
    out.set(n, macroFor(text === undefined ? undefined : parseProfile(text)));
  }
  return out;
}
