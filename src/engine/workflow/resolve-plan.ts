import type { ImplInstance, WorkflowPlan } from './types.js';
import type { WorkflowOptions } from './workflow-options.js';

export interface ResolvedPlan {
  plan: WorkflowPlan;
  /** What was substituted and why (printed at verbosity 0, as Kadeploy does). */
  notes: string[];
}

// Kadeploy's workflow.rb: a substituted Classical instance gets 0 retries and the cluster's
// classical reboot timeout + 200 s ("should not be hardcoded", says its source; kept for parity).
const KEXEC_FALLBACK_EXTRA_SEC = 200;

/**
 * Applies the substitutions Kadeploy makes before running a plan: an environment with a preinstall
 * runs SetDeploymentEnvUntrustedCustomPreInstall instead of the whole SetDeploymentEnv list (same
 * retries/timeout as its first item); BootNewEnvKexec becomes BootNewEnvClassical for a non-linux
 * environment, an unmountable deploy partition, or --no-kexec; SetDeploymentEnvKexec becomes
 * SetDeploymentEnvUntrusted for --no-kexec. Pure.
 */
export function resolvePlan(plan: WorkflowPlan, opts: WorkflowOptions): ResolvedPlan {
  const notes: string[] = [];
  let setEnv = plan.SetDeploymentEnv;
  const first = setEnv[0];
  if (opts.preinstall && first !== undefined) {
    setEnv = [{ ...first, impl: 'SetDeploymentEnvUntrustedCustomPreInstall' }];
    notes.push('A specific preinstall will be used with this environment');
  }
  const why =
    opts.os !== 'linux'
      ? 'with this non-linux environment'
      : opts.unmountable
        ? 'since the filesystem is not supported by the deployment environment'
        : opts.noKexec
          ? '(--no-kexec)'
          : undefined;
  const classical = (inst: ImplInstance, to: ImplInstance['impl']): ImplInstance => ({
    impl: to,
    retries: 0,
    timeoutSec:
      opts.rebootClassicalTimeoutSec === undefined
        ? inst.timeoutSec
        : Math.ceil(opts.rebootClassicalTimeoutSec) + KEXEC_FALLBACK_EXTRA_SEC,
  });
  // SetDeploymentEnvKexec kexecs from the system running now into the deployment kernel, so only
  // --no-kexec replaces it; the environment being deployed does not matter there.
  if (opts.noKexec) {
    setEnv = setEnv.map((i) => {
      if (i.impl !== 'SetDeploymentEnvKexec') return i;
      notes.push('Using classical reboot instead of kexec (--no-kexec) (SetDeploymentEnv)');
      return classical(i, 'SetDeploymentEnvUntrusted');
    });
  }
  const boot =
    why === undefined
      ? plan.BootNewEnv
      : plan.BootNewEnv.map((i) => {
          if (i.impl !== 'BootNewEnvKexec') return i;
          notes.push(`Using classical reboot instead of kexec ${why} (BootNewEnv)`);
          return classical(i, 'BootNewEnvClassical');
        });
  return { plan: { SetDeploymentEnv: setEnv, BroadcastEnv: plan.BroadcastEnv, BootNewEnv: boot }, notes };
}
