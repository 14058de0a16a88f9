import path from 'node:path';
import type { StepEnv } from './step-env.js';

/** The deployed kernel/initrd as seen from the deployment environment (under the extraction dir). */
export function deployedBootFiles(env: StepEnv): { kernel?: string; initrd?: string } {
  const e = env.spec.env;
  const under = (p: string) => path.posix.join(env.extractDir, p);
  return {
    ...(e.kernel ? { kernel: under(e.kernel) } : {}),
    ...(e.initrd ? { initrd: under(e.initrd) } : {}),
  };
}

/** Kernel command line of the deployed system: its root device, then the environment's parameters. */
export function deployedAppend(env: StepEnv, node: string): string {
  const p = env.spec.env.kernelParams ?? '';
  return `root=${env.deployDevice(node)}${p ? ` ${p}` : ''}`;
}
