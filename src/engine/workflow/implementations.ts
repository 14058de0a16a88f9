import type { Implementation, MacroStep } from './types.js';

/**
 * The implementations each macro-step accepts, in the order the docs list them. Bittorrent, Custom
 * (BroadcastEnv) and PivotRoot (BootNewEnv, never implemented by Kadeploy either) are not offered.
 */
export const IMPLEMENTATIONS: Readonly<Record<MacroStep, readonly Implementation[]>> = {
  SetDeploymentEnv: [
    'SetDeploymentEnvUntrusted',
    'SetDeploymentEnvKexec',
    'SetDeploymentEnvProd',
    'SetDeploymentEnvNfsroot',
    'SetDeploymentEnvUntrustedCustomPreInstall',
    'SetDeploymentEnvDummy',
  ],
  BroadcastEnv: [
    'BroadcastEnvChain',
    'BroadcastEnvKastafior',
    'BroadcastEnvKascade',
    'BroadcastEnvTree',
    'BroadcastEnvDummy',
  ],
  BootNewEnv: ['BootNewEnvClassical', 'BootNewEnvKexec', 'BootNewEnvHardReboot', 'BootNewEnvDummy'],
};

const BY_NAME: ReadonlyMap<string, MacroStep> = new Map(
  (Object.entries(IMPLEMENTATIONS) as [MacroStep, readonly Implementation[]][]).flatMap(([macro, impls]) =>
    impls.map((impl) => [impl, macro] as const),
  ),
);

export function isImplementation(name: string): name is Implementation {
  return BY_NAME.has(name);
}

/** The macro-step an implementation belongs to (undefined for an unknown name). */
export function macroOfImpl(name: string): MacroStep | undefined {
  return BY_NAME.get(name);
}
