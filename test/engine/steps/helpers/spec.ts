import type {
  DeploymentSpec,
  EnvironmentSpec,
  StepTuning,
} from '../../../../src/engine/steps/deployment-spec.js';
import type { VSite } from './vsite.js';

export const FAST: Partial<StepTuning> = {
  // Not 0: a listener being closed by the reboot can still complete a connect in the same tick.
  waitRebootInitialDelayMs: 25,
  waitRebootPollMs: 50,
  probeTimeoutMs: 500,
  powerCommandTimeoutMs: 10_000,
  nodeCommandTimeoutMs: 30_000,
  relayConnectTimeoutMs: 10_000,
  dummyMs: 10,
};

export function tinyEnv(v: VSite, over: Partial<EnvironmentSpec> = {}): EnvironmentSpec {
  return {
    name: 'tiny-x64-base',
    version: 1,
    os: 'linux',
    image: { path: v.images.tinyTgz, kind: 'tar', compression: 'gzip', md5: '' },
    kernel: '/boot/vmlinuz',
    initrd: '/boot/initrd.img',
    kernelParams: 'ro',
    filesystem: 'ext4',
    postinstalls: [],
    ...over,
  };
}

export function specFor(v: VSite, over: Partial<DeploymentSpec> = {}): DeploymentSpec {
  return {
    wid: 'D-test',
    user: 'alice',
    site: v.site,
    nodes: v.site.clusters[0]?.nodes ?? [],
    env: tinyEnv(v),
    disableBootloaderInstall: false,
    disableDiskPartitioning: false,
    debug: true,
    ...over,
  };
}
