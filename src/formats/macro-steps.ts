/**
 * The names of the --force-steps wire format (Kadeploy3): the three macro-steps and the
 * implementations each accepts. Shared by the engine (which runs them) and the site configuration
 * (whose default automata uses the same syntax).
 */
export type MacroStep = 'SetDeploymentEnv' | 'BroadcastEnv' | 'BootNewEnv';
export const MACRO_STEPS: readonly MacroStep[] = ['SetDeploymentEnv', 'BroadcastEnv', 'BootNewEnv'];

export type SetDeploymentEnvImpl =
  | 'SetDeploymentEnvUntrusted'
  | 'SetDeploymentEnvKexec'
  | 'SetDeploymentEnvProd'
  | 'SetDeploymentEnvNfsroot'
  | 'SetDeploymentEnvUntrustedCustomPreInstall'
  | 'SetDeploymentEnvDummy';
export type BroadcastEnvImpl =
  | 'BroadcastEnvChain'
  | 'BroadcastEnvKastafior'
  | 'BroadcastEnvKascade'
  | 'BroadcastEnvTree'
  | 'BroadcastEnvDummy';
export type BootNewEnvImpl =
  | 'BootNewEnvClassical'
  | 'BootNewEnvKexec'
  | 'BootNewEnvHardReboot'
  | 'BootNewEnvDummy';
export type Implementation = SetDeploymentEnvImpl | BroadcastEnvImpl | BootNewEnvImpl;

/** One `Implementation:retries:timeout` item of --force-steps / automata. timeout 0 = none. */
export interface ImplInstance {
  impl: Implementation;
  retries: number;
  timeoutSec: number;
}
/** Per macro-step, the implementations in fallback order. */
export type WorkflowPlan = Record<MacroStep, ImplInstance[]>;

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
