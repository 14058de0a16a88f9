#!/usr/bin/env node
import { Command, Option } from 'commander';
import {
  checkRebootRequest,
  parseLevel,
  parseRebootKind,
  type RebootRequest,
} from '../api/reboot-request.js';
import { selectNodes } from '../client/deploy/node-selection.js';
import { readKeys } from '../client/deploy/read-keys.js';
import { readBoundedFile } from '../client/read-bounded-file.js';
import { KaployError } from '../common/errors.js';
import { checkPxeProfile } from '../formats/pxe-profile-check.js';
import { type NodeOpCliOptions, runNodeOpCli } from './common/node-op-run.js';
import { collect, intInRange } from './common/options.js';
import { runCli } from './common/run-cli.js';

/** kareboot3: reboot nodes onto an environment (Kadeploy 3 command line). */
await runCli('kareboot3', async (signal) => {
  const p = new Command('kareboot3')
    .description(
      'Reboot nodes: simple, onto a PXE profile (set_pxe), the deployment environment (deploy_env) or a recorded environment installed on a partition (recorded_env).\nExit codes: 0 all nodes OK, 1 some nodes failed, 2 no node succeeded, 3 bad usage, 4 refused by the server, 5 server unreachable, 130 cancelled.',
    )
    .exitOverride()
    .showHelpAfterError()
    .option('-m, --machine <host>', 'node to reboot (repeatable; ranges like node-[1-4].site)', collect, [])
    .option('-f, --file <file>', 'file of nodes, one per line (- for stdin; duplicates folded)', collect, [])
    .option(
      '-r, --reboot-kind <kind>',
      'simple | set_pxe | deploy_env | recorded_env (3.1: simple_reboot, env_recorded)',
      'simple',
    )
    .option('-l, --op-level <level>', 'soft | hard | very_hard (escalates from there)', 'soft')
    .option(
      '-c, --check-destructive-tag',
      'refuse when the last environment deployed on a node is destructive',
    )
    .option('-e, --env-name <name>', 'recorded_env: name of the recorded environment')
    .option('-u, --env-user <user>', 'recorded_env: owner of the environment')
    .option('--env-version <n>', 'recorded_env: version of the environment', intInRange(1, 1_000_000))
    .option(
      '-p, --partition-number <n>',
      'recorded_env: partition the environment is installed on',
      intInRange(1, 128),
    )
    .option('-k, --key [file]', 'deploy_env: public keys for root (default: ~/.ssh/authorized_keys)')
    .option('-w, --set-pxe-profile <file>', 'set_pxe: the PXE profile to boot')
    .option('-o, --output-ok-nodes <file>', 'append the nodes rebooted successfully to FILE')
    .option('-n, --output-ko-nodes <file>', 'append the nodes that failed to FILE')
    .option(
      '--reboot-classical-timeout <expr>',
      'reboot timeout in seconds (expression of n, e.g. 200+150*log(n))',
    )
    .option('--force', 'reboot nodes already involved in an operation')
    .addOption(new Option('-V, --verbose-level <n>', 'verbosity 0..5').default(3).argParser(intInRange(0, 5)))
    .option('-d, --debug-mode', 'print the power commands and their output for each node')
    .option('--write-workflow-id <file>', 'write the workflow id to FILE')
    .option('-S, --server <name>', 'server from the client configuration')
    .option('-M, --multi-server', 'every server of the client configuration, each for the nodes it serves')
    .option('--poll-interval <ms>', 'log polling interval (ms)', intInRange(50, 60_000));
  p.parse(process.argv);
  const o = p.opts();
  const kind = parseRebootKind(o.rebootKind);
  const level = parseLevel(o.opLevel);
  const nodes = await selectNodes(o.machine, o.file, {
    signal,
    warn: (m) => process.stderr.write(`kareboot3: ${m}\n`),
  });
  let pxeProfile: string | undefined;
  if (o.setPxeProfile) {
    // The request's own bound (16 KiB): a larger profile is refused before it is read whole.
    pxeProfile = await readBoundedFile(o.setPxeProfile, { limit: 16 * 1024, what: 'PXE profile', signal });
    checkPxeProfile(pxeProfile); // the engine checks again; this reports the file's problems early
  }
  const keys = o.key ? await readKeys(o.key, undefined, signal) : undefined;
  const req: RebootRequest = checkRebootRequest({
    kind,
    nodes,
    level,
    ...(o.envName
      ? {
          environment: {
            name: o.envName,
            ...(o.envUser ? { user: o.envUser } : {}),
            ...(o.envVersion ? { version: o.envVersion } : {}),
          },
        }
      : {}),
    ...(o.partitionNumber !== undefined ? { partition: o.partitionNumber } : {}),
    ...(keys ? { keys: keys.text } : {}),
    ...(pxeProfile !== undefined ? { pxeProfile } : {}),
    ...(o.checkDestructiveTag ? { checkDestructive: true } : {}),
    ...(o.rebootClassicalTimeout ? { rebootClassicalTimeout: o.rebootClassicalTimeout } : {}),
    ...(o.force ? { force: true } : {}),
    ...(o.debugMode ? { debug: true } : {}),
  });
  if (!req.environment && (o.envUser || o.envVersion))
    throw new KaployError('KAPLOY_MISSING_OPTION', '-u/--env-version need -e/--env-name');
  return runNodeOpCli('kareboot3', { kind: 'reboot', request: req }, o as NodeOpCliOptions, signal);
});
