import { isPortOpen } from '../net/port-check.js';

/**
 * Which system a node is up in, from the outside (architecture: "up in the deployment
 * environment" = SSH port answers and the marker port accepts; "up in the installed system" = SSH
 * answers and the marker is closed). Never logs in, so it does not depend on host keys.
 */
export type BootedSystem = 'deploy_env' | 'installed';
export type ProbeState = BootedSystem | 'down';

export async function probeNode(
  address: string,
  sshPort: number,
  markerPort: number,
  timeoutMs: number,
  signal: AbortSignal,
): Promise<ProbeState> {
  if (!(await isPortOpen(address, sshPort, timeoutMs, signal))) return 'down';
  return (await isPortOpen(address, markerPort, timeoutMs, signal)) ? 'deploy_env' : 'installed';
}
