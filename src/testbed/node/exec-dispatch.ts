import type { ServerChannel } from 'ssh2';
import { errorMessage } from '../../common/errors.js';
import { finishChannel, readAll, writeStderr } from './channel-io.js';
import { commandFaults, diskWritePath } from './command-faults.js';
import { parseHardwareCommand } from './hardware-commands.js';
import { HardwareError } from './hardware-error.js';
import { runHardwareCommand } from './hardware-exec.js';
import type { NodeRuntime } from './node-runtime.js';
import { runRelay } from './relay.js';
import { runOnChannel } from './sandbox-channel.js';
import { throttle } from './token-bucket.js';

const MAX_SCRIPT_BYTES = 1024 * 1024;

/**
 * One `exec` request: faults first (power loss, hang, drop, disk), then either a hardware
 * command acted on the model, the relay built-in, or the command run for real in the sandbox.
 * Returns how to kill what runs (for SSH signal requests), if anything does.
 */
export function dispatchExec(
  rt: NodeRuntime,
  channel: ServerChannel,
  command: string,
  dropConnection: () => void,
): (() => void) | undefined {
  const system = rt.system();
  if (!system) {
    channel.close();
    return undefined;
  }
  rt.logger.debug({ command }, 'exec');
  const faults = commandFaults(rt.faults, command);
  if (faults.powerLoss) {
    rt.powerLoss();
    return undefined;
  }
  if (faults.hang) return undefined; // accepted, never answered: the engine's step timeout must catch it
  if (faults.dropAfter === 0) {
    dropConnection();
    return undefined;
  }

  const hw = parseHardwareCommand(command);
  if (hw?.kind === 'relay') {
    if (!system.isDeployEnv) {
      writeStderr(channel, 'sh: 1: kaploy-relay: not found');
      finishChannel(channel, 127);
      return undefined;
    }
    return runRelay(rt, system, channel, hw, faults, dropConnection);
  }
  const input = diskWritePath(channel.pipe(throttle([rt.nicIn])), faults, rt.diskBucket, dropConnection);
  if (!hw) return runOnChannel(rt, system, channel, ['sh', '-c', command], input);

  let stdinRead = false;
  const readStdin = () => {
    stdinRead = true;
    return readAll(input, MAX_SCRIPT_BYTES).catch((e: Error) => {
      throw new HardwareError(`${hw.kind}: ${e.message}`);
    });
  };
  runHardwareCommand(hw, { system, deployKernel: rt.deployKernel, readStdin }).then(
    (after) => {
      if (!stdinRead) input.resume();
      finishChannel(channel, 0);
      if (after.kind !== 'none') rt.afterCommand(after, command);
    },
    (e: unknown) => {
      if (!stdinRead) input.resume();
      if (!(e instanceof HardwareError))
        rt.logger.error({ err: e, command }, 'hardware command failed unexpectedly');
      writeStderr(channel, errorMessage(e));
      finishChannel(channel, e instanceof HardwareError ? e.exitCode : 1);
    },
  );
  return undefined; // acted on the model at once: nothing to kill
}
