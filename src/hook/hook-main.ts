#!/usr/bin/env node
import { readFileSync } from 'node:fs';
import { errorMessage } from '../common/errors.js';
import { hooksConfigFile } from '../common/hooks-config.js';
import { parseNodeFile } from '../formats/node-names.js';
import { isValidUserName } from '../formats/user-name.js';
import { Deadline } from './deadline.js';
import { runEpilogue } from './epilogue.js';
import { loadHookSetup } from './hook-deps.js';
import { hookLogger } from './hook-log.js';
import { parseJobId, printable } from './job-id.js';
import type { NodeHookArgs } from './job-source.js';
import { runPrologue } from './prologue.js';

/**
 * The program behind hooks/*: `hook-main.js HOOK ARGS...` where HOOK is server_prologue,
 * server_epilogue (OAR passes the job id only) or prologue, epilogue (job id, user, node file).
 * This is the hooks' one error boundary: it logs and sets the exit code, never throws.
 */
const HOOKS = ['server_prologue', 'server_epilogue', 'prologue', 'epilogue'] as const;
type HookName = (typeof HOOKS)[number];

async function main(argv: string[]): Promise<number> {
  const [name, jobArg, userArg, nodeFileArg] = argv;
  const write = (line: string) => process.stdout.write(line);
  if (!HOOKS.includes(name as HookName)) {
    hookLogger(
      'hook',
      undefined,
      write,
    )(`unknown hook '${printable(name ?? '')}' (expected ${HOOKS.join(', ')}): nothing done`);
    return 0;
  }
  const hook = name as HookName;
  const isEpilogue = hook.endsWith('epilogue');
  let jobId: number;
  try {
    jobId = parseJobId(jobArg);
  } catch (e) {
    // No job, so no node to act on: nothing to protect, and failing would stop every queue.
    hookLogger(hook, undefined, write)(`${errorMessage(e)}: nothing done`);
    return 0;
  }
  const log = hookLogger(hook, jobId, write);
  let nodeArgs: NodeHookArgs | undefined;
  if (hook === 'prologue' || hook === 'epilogue') {
    try {
      nodeArgs = readNodeHookArgs(userArg, nodeFileArg);
    } catch (e) {
      log(`${errorMessage(e)}; using oarstat's owner and hosts instead`);
    }
  }
  const { config, engine } = loadHookSetup(hooksConfigFile(), log);
  const deadline = new Deadline(config.deadlineMs);
  // OAR SIGKILLs at its own timeout and then stops every queue: finish first, on the safe side.
  const watchdog = setTimeout(() => {
    log(`internal deadline of ${config.deadlineMs} ms passed: exiting ${isEpilogue ? 1 : 0}`);
    process.exit(isEpilogue ? 1 : 0);
  }, config.deadlineMs + 2_000);
  watchdog.unref();
  const deps = { config, engine, log, deadline, now: Date.now };
  try {
    return isEpilogue ? await runEpilogue(deps, jobId, nodeArgs) : await runPrologue(deps, jobId, nodeArgs);
  } catch (e) {
    log(`unexpected error: ${errorMessage(e)}; exiting ${isEpilogue ? 1 : 0}`);
    return isEpilogue ? 1 : 0;
  } finally {
    clearTimeout(watchdog);
    await engine?.close().catch(() => undefined);
  }
}

function readNodeHookArgs(user: string | undefined, nodeFile: string | undefined): NodeHookArgs {
  if (user === undefined || !isValidUserName(user))
    throw new Error(`invalid job user argument '${printable(user ?? '')}'`);
  if (nodeFile === undefined || !nodeFile.startsWith('/'))
    throw new Error(`invalid node file argument '${printable(nodeFile ?? '')}'`);
  const nodes = parseNodeFile(readFileSync(nodeFile, 'utf8'), nodeFile);
  return { user, nodes };
}

process.exitCode = await main(process.argv.slice(2));
