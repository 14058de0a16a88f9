import { setMaxListeners } from 'node:events';
import { silentLogger } from '../../../../src/common/logger.js';
import type { ClusterConfig, LevelCommands, SiteConfig } from '../../../../src/common/site-config-types.js';
import { DEFAULT_CACHE_LIMITS } from '../../../../src/engine/environments/file-cache.js';
import type { MicroStep, MicroStepContext } from '../../../../src/engine/workflow/types.js';

/** A site configuration built in code for the step tests (what site.yaml would load to). */
export function testSite(o: {
  dir: string;
  nodes: { name: string; address: string }[];
  sshPort?: number;
  reboot?: LevelCommands;
  markerPort?: number;
  extractDir?: string;
}): SiteConfig {
  const cluster: ClusterConfig = {
    name: 'vc',
    nodes: o.nodes.map((n) => ({ ...n, cluster: 'vc' })),
    sshPort: o.sshPort ?? 22,
    partitioning: { blockDevice: '/dev/sda', swap: 1, prod: 2, deploy: 3, tmp: 5 },
    deployEnv: {
      kernel: 'kaploy/deploy-vmlinuz',
      initrd: 'kaploy/deploy-initrd.img',
      params: 'console=ttyS0',
    },
    timeouts: { reboot: '30', kexec: '20' },
    automata: '',
    commands: { reboot: o.reboot ?? {}, powerOn: {}, powerOff: {} },
  };
  return {
    source: '<test>',
    site: 'testsite',
    listen: { host: '127.0.0.1', port: 0 },
    dataDir: `${o.dir}/data`,
    admins: ['root'],
    bootDir: `${o.dir}/tftp/pxelinux.cfg`,
    pxeFileNaming: 'ip_hex',
    imageDirs: [],
    ssh: { keyFile: '', user: 'root', connectTimeoutMs: 5000, keepaliveIntervalMs: 5000, maxChannels: 8 },
    windows: { reboot: 10, check: 10 },
    waitReboot: { initialDelayMs: 200, pollMs: 250 },
    extractDir: o.extractDir ?? '/mnt/dest',
    markerPort: o.markerPort ?? 25300,
    production: { environment: 'prod-env', user: 'deploy' },
    cache: DEFAULT_CACHE_LIMITS,
    clusters: [cluster],
  };
}

export function stepCtx(
  macro: MicroStepContext['macro'],
  impl: MicroStepContext['impl'],
  micro: MicroStep,
  signal: AbortSignal,
  debugLines?: string[],
): MicroStepContext {
  // As the runner does before each micro-step call: every node's command listens on this signal.
  setMaxListeners(0, signal);
  return {
    wid: 'D-test',
    macro,
    impl,
    micro,
    signal,
    logger: silentLogger,
    attempt: 0,
    debug: (node, text) => debugLines?.push(`${node}: ${text}`),
  };
}
