import { isUrl } from '../../formats/environment/server-paths.js';
import { fetchKeys } from './fetch-keys.js';
import { readKeys } from './read-keys.js';
import type { DeployRunOptions, RunEnvironment } from './run-options.js';

/** kadeploy3's command line as parsed (commander's names for Kadeploy's options). */
export interface KadeployArgs {
  machine: string[];
  file: string[];
  envName?: string;
  envFile?: string;
  envUser?: string;
  envVersion?: number;
  key?: string | true;
  partitionNumber?: number;
  blockDevice?: string;
  outputOkNodes?: string;
  outputKoNodes?: string;
  script?: string;
  verboseLevel: number;
  debugMode?: boolean;
  force?: boolean;
  forceSteps?: string;
  breakpoint?: string;
  resume?: string;
  rebootClassicalTimeout?: string;
  rebootKexecTimeout?: string;
  /** false with --no-kexec */
  kexec?: boolean;
  disableBootloaderInstall?: boolean;
  disableDiskPartitioning?: boolean;
  reformatTmp?: string;
  vlan?: string;
  dryRun?: boolean;
  /** false with --no-wait */
  wait?: boolean;
  writeWorkflowId?: string;
  server?: string;
  multiServer?: boolean;
  pollInterval?: number;
}

/** kadeploy3's flags as the run's options; the nodes are selected and the keys read by the caller. */
export function runOptionsOf(
  a: KadeployArgs,
  nodes: string[],
  keys: DeployRunOptions['keys'] | undefined,
  cwd: string,
  say: (m: string) => void,
): DeployRunOptions {
  return {
    nodes,
    environment: environmentOf(a, cwd),
    ...(keys ? { keys } : {}),
    request: deployRequest(a),
    verbose: a.verboseLevel,
    ...(a.outputOkNodes ? { outputOk: a.outputOkNodes } : {}),
    ...(a.outputKoNodes ? { outputKo: a.outputKoNodes } : {}),
    ...(a.script ? { script: a.script } : {}),
    wait: a.wait !== false,
    dryRun: a.dryRun === true,
    ...(a.pollInterval ? { pollIntervalMs: a.pollInterval } : {}),
    ...(a.multiServer ? { multiServer: true } : {}),
    ...(a.server ? { server: a.server } : {}),
    ...(a.resume ? { resume: a.resume } : {}),
    ...(a.writeWorkflowId ? { writeWorkflowId: a.writeWorkflowId } : {}),
    warn: (m) => say(`warning: ${m}`),
  };
}

function environmentOf(a: KadeployArgs, cwd: string): RunEnvironment {
  if (a.envFile && !a.resume) return { kind: 'file', file: a.envFile, cwd };
  return {
    kind: 'recorded',
    name: a.envName ?? '',
    ...(a.envUser ? { user: a.envUser } : {}),
    ...(a.envVersion ? { version: a.envVersion } : {}),
  };
}

/** -k [FILE|URL]: the tutorial's multi-site section keeps authorized_keys on a web server. */
export function keysFrom(key: string | true, signal: AbortSignal) {
  return typeof key === 'string' && isUrl(key) ? fetchKeys(key, signal) : readKeys(key, undefined, signal);
}

/** The workflow options of a deployment request, sent unchanged to every site. */
function deployRequest(a: KadeployArgs): DeployRunOptions['request'] {
  return {
    ...(a.partitionNumber ? { partition: a.partitionNumber } : {}),
    ...(a.blockDevice ? { blockDevice: a.blockDevice } : {}),
    ...(a.forceSteps ? { forceSteps: a.forceSteps } : {}),
    ...(a.breakpoint ? { breakpoint: a.breakpoint } : {}),
    ...(a.rebootClassicalTimeout ? { rebootClassicalTimeout: a.rebootClassicalTimeout } : {}),
    ...(a.rebootKexecTimeout ? { rebootKexecTimeout: a.rebootKexecTimeout } : {}),
    ...(a.kexec === false ? { noKexec: true } : {}),
    ...(a.disableBootloaderInstall ? { disableBootloaderInstall: true } : {}),
    ...(a.disableDiskPartitioning ? { disableDiskPartitioning: true } : {}),
    ...(a.reformatTmp ? { reformatTmp: a.reformatTmp } : {}),
    ...(a.vlan ? { vlan: a.vlan } : {}),
    ...(a.force ? { force: true } : {}),
    ...(a.debugMode ? { debug: true } : {}),
  };
}
