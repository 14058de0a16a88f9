import { Readable } from 'node:stream';
import type { ServerChannel } from 'ssh2';
import { errorMessage } from '../../common/errors.js';
import type { BootedSystem } from './booted-system.js';
import { finishChannel, readAll, writeStderr } from './channel-io.js';
import { commandFaults, diskWritePath } from './command-faults.js';
import { planFileCommand, runFileCommand } from './file-commands.js';
import { type NativeCommand, parseHardwareCommand, parseNativeList } from './hardware-commands.js';
import { HardwareError } from './hardware-error.js';
import { type AfterCommand, runHardwareCommand } from './hardware-exec.js';
import type { NodeRuntime } from './node-runtime.js';
import { runRelay } from './relay.js';
import { runOnChannel } from './sandbox-channel.js';
import { throttle } from './token-bucket.js';

const MAX_SCRIPT_BYTES = 1024 * 1024;

/**
 * One `exec` request: faults first (power loss, hang, drop, disk), then either hardware or file
 * commands the node answers itself (an AND list of them), the relay built-in, or the command run
 * for real in the sandbox.
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
  const list: NativeCommand[] | undefined = hw ? [{ kind: 'hardware', cmd: hw }] : parseNativeList(command);
  if (!list) return runOnChannel(rt, system, channel, ['sh', '-c', command], input);
  const files = list.flatMap((c) => (c.kind === 'file' ? [c.cmd] : []));
  if (files.length < list.length) {
    // Hardware commands (with file commands: a path that is not the node's own fails them).
    runNative(rt, system, channel, command, list, input);
    return undefined; // acted on the model at once: nothing to kill
  }
  // File commands only: answered here if every path is the node's own (file-commands.ts);
  // otherwise the line runs in the sandbox, with sh's own semantics, once that is known.
  let kill: (() => void) | undefined;
  let killed = false;
  Promise.all(files.map((f) => planFileCommand(system, f))).then(
    (own) => {
      if (own.every(Boolean)) return runNative(rt, system, channel, command, list, input);
      if (killed) return finishChannel(channel, null, 'SIGKILL');
      kill = runOnChannel(rt, system, channel, ['sh', '-c', command], input);
    },
    (e: unknown) => {
      rt.logger.error({ err: e, command }, 'planning a file command failed unexpectedly');
      writeStderr(channel, errorMessage(e));
      finishChannel(channel, 1);
    },
  );
  return () => {
    killed = true;
    kill?.();
  };
}

/**
 * Runs an AND list the node answers itself, in order, as sh would: it stops at the first command
 * that fails and exits with its status. Only the first command reading stdin gets it.
 */
function runNative(
  rt: NodeRuntime,
  system: BootedSystem,
  channel: ServerChannel,
  command: string,
  list: readonly NativeCommand[],
  input: Readable,
): void {
  let stdinRead = false;
  const takeStdin = (): Readable => {
    if (stdinRead) return Readable.from([]);
    stdinRead = true;
    return input;
  };
  const readStdin = (what: string) =>
    readAll(takeStdin(), MAX_SCRIPT_BYTES).catch((e: Error) => {
      throw new HardwareError(`${what}: ${e.message}`);
    });
  const run = async (): Promise<{ code: number; after: AfterCommand }> => {
    let after: AfterCommand = { kind: 'none' };
    for (const c of list) {
      if (c.kind === 'file') {
        const code = await runFileCommand(system, c.cmd, takeStdin);
        if (code !== 0) return { code, after };
      } else {
        const hw = c.cmd;
        after = await runHardwareCommand(hw, {
          system,
          deployKernel: rt.deployKernel,
          readStdin: () => readStdin(hw.kind),
          writeStdout: (text) => channel.write(text),
        });
      }
    }
    return { code: 0, after };
  };
  run().then(
    ({ code, after }) => {
      if (!stdinRead) input.resume();
      finishChannel(channel, code);
      if (code === 0 && after.kind !== 'none') rt.afterCommand(after, command);
    },
    (e: unknown) => {
      if (!stdinRead) input.resume();
      if (!(e instanceof HardwareError))
        rt.logger.error({ err: e, command }, 'hardware command failed unexpectedly');
      writeStderr(channel, errorMessage(e));
      finishChannel(channel, e instanceof HardwareError ? e.exitCode : 1);
    },
  );
}
