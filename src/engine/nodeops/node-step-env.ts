import type { Logger } from '../../common/logger.js';
import type { Level, NodeConfig, SiteConfig } from '../../common/site-config-types.js';
import type { OperationRun } from '../operations/operation-kind.js';
import type {
  DeploymentSpec,
  EnvironmentSpec,
  NodeShell,
  StepDeps,
  StepTuning,
} from '../steps/deployment-spec.js';
import { RebootState } from '../steps/reboot-state.js';
import { StepEnv } from '../steps/step-env.js';
import type {
  Implementation,
  MacroStep,
  MicroStep,
  MicroStepContext,
  MicroStepTable,
} from '../workflow/types.js';

export interface NodeStepDeps {
  pool: NodeShell;
  tuning?: Partial<StepTuning>;
  /** The deployments' micro-step table (createStepTable); tests give scripted steps here. */
  stepTable?: (spec: DeploymentSpec, deps: StepDeps) => MicroStepTable;
}

/**
 * Reboots never broadcast an image: the micro-steps they reuse (switch_pxe, reboot, wait_reboot,
 * send_key_in_deploy_env) never read the environment spec, which StepEnv requires.
 */
const NO_IMAGE: EnvironmentSpec = {
  name: '',
  version: 0,
  os: 'linux',
  image: { path: '', kind: 'tar', compression: 'gzip', md5: '' },
  postinstalls: [],
};

/** The deployment micro-steps' view of the nodes of one reboot operation. */
export function nodeStepEnv(
  site: SiteConfig,
  deps: NodeStepDeps,
  logger: Logger,
  o: {
    wid: string;
    user: string;
    nodes: NodeConfig[];
    partition?: number;
    keys?: string;
    rebootClassicalTimeout?: string;
    debug: boolean;
  },
): StepEnv {
  return new StepEnv(
    {
      wid: o.wid,
      user: o.user,
      site,
      nodes: o.nodes,
      env: NO_IMAGE,
      ...(o.partition !== undefined ? { partition: o.partition } : {}),
      ...(o.keys !== undefined ? { keys: o.keys } : {}),
      ...(o.rebootClassicalTimeout !== undefined ? { rebootClassicalTimeout: o.rebootClassicalTimeout } : {}),
      disableBootloaderInstall: true,
      disableDiskPartitioning: true,
      debug: o.debug,
    },
    { pool: deps.pool, logger, ...(deps.tuning ? { tuning: deps.tuning } : {}) },
  );
}

/**
 * The context a single micro-step gets outside the workflow runner. `macro` tells switch_pxe and
 * wait_reboot what the nodes must boot: SetDeploymentEnv = the deployment environment, BootNewEnv =
 * a system installed on disk.
 */
export function microStepContext(
  r: OperationRun,
  macro: MacroStep,
  micro: MicroStep,
  log: { debugLine(node: string, text: string): void },
): MicroStepContext {
  const impl: Implementation =
    macro === 'SetDeploymentEnv' ? 'SetDeploymentEnvUntrusted' : 'BootNewEnvClassical';
  return {
    wid: r.wid,
    macro,
    impl,
    micro,
    signal: r.signal,
    logger: r.logger.child({ micro }),
    attempt: 0,
    debug: (node, text) => log.debugLine(node, text),
    note: (text, verbosity) => r.log.line(verbosity ?? 3, text),
  };
}

/**
 * The reboot levels sent, shared by reboot and wait_reboot (which escalates from it); also keeps
 * the highest level each node was sent, for the retries column of the statistics, and tells the
 * log about every power command that was accepted.
 */
export class TrackedRebootState extends RebootState {
  readonly highest = new Map<string, Level>();
  constructor(private readonly onSent: (node: string, level: Level) => void) {
    super();
  }
  override set(node: string, level: Level): void {
    super.set(node, level);
    this.highest.set(node, level);
    this.onSent(node, level);
  }

  /**
   * A level the node was sent before an engine restart (its reboot stage completed, decision
   * 0037): what wait_reboot escalates from, neither logged nor counted again.
   */
  assume(node: string, level: Level): void {
    super.set(node, level);
  }
}
