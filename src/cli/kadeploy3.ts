#!/usr/bin/env node
import { Command, Option } from 'commander';
import type { KadeployArgs } from '../client/deploy/kadeploy-args.js';
import { runKadeploy } from '../client/deploy/run.js';
import { EXIT } from './common/exit-codes.js';
import { nodeOpExitCode } from './common/node-op-exit.js';
import { collect, intInRange } from './common/options.js';
import { runCli } from './common/run-cli.js';

/** kadeploy3: deploy an environment on nodes (Kadeploy 3 command line). */
await runCli('kadeploy3', async (signal) => {
  const p = new Command('kadeploy3')
    .description(
      'Deploy an environment on nodes.\nExit codes: 0 all nodes OK, 1 some nodes failed, 2 no node succeeded, 3 bad usage, 4 refused by the server, 5 server unreachable or authentication failed, 130 cancelled.',
    )
    .exitOverride()
    .showHelpAfterError()
    .option('-m, --machine <host>', 'node to deploy (repeatable; ranges like node-[1-4].site)', collect, [])
    .option('-f, --file <file>', 'file of nodes, one per line (- for stdin; duplicates folded)', collect, [])
    .option('-e, --env-name <name>', 'name of a recorded environment')
    .option('-a, --env-file <file>', 'anonymous deployment of the environment described in FILE')
    .option('-u, --env-user <user>', 'owner of the environment')
    .option('--env-version <n>', 'version of the environment', intInRange(1, 1_000_000))
    .option('-k, --key [file]', 'install public keys for root (default: ~/.ssh/authorized_keys)')
    .option('-p, --partition-number <n>', 'deploy partition number', intInRange(1, 128))
    .option('-b, --block-device <dev>', 'block device')
    .option('-o, --output-ok-nodes <file>', 'append the nodes deployed successfully to FILE')
    .option('-n, --output-ko-nodes <file>', 'append the nodes that failed to FILE')
    .option('-s, --script <file>', 'run FILE once after the deployment (not with --no-wait)')
    .addOption(new Option('-V, --verbose-level <n>', 'verbosity 0..5').default(3).argParser(intInRange(0, 5)))
    .option('-d, --debug-mode', 'print the output of the commands run on each node')
    .option('--force', 'deploy on nodes already involved in an operation')
    .option(
      '--force-steps <steps>',
      'workflow: SetDeploymentEnv|Impl:retries:timeout,...&BroadcastEnv|...&BootNewEnv|...',
    )
    .option('--breakpoint <step>', 'stop before MACRO[:micro] (resume with --resume WID)')
    .option('--resume <wid>', 'resume a deployment stopped at its breakpoint')
    .option(
      '--reboot-classical-timeout <expr>',
      'reboot timeout in seconds (expression of n, e.g. 200+150*log(n))',
    )
    .option('--reboot-kexec-timeout <expr>', 'kexec timeout in seconds (expression of n)')
    .option('--no-kexec', 'do not use kexec even if the workflow says so')
    .option('--disable-bootloader-install', 'do not install the boot loader')
    .option('--disable-disk-partitioning', 'do not create the partition table')
    .option('-r, --reformat-tmp <fstype>', 'reformat the tmp partition with FSTYPE')
    .option('--vlan <id>', 'VLAN to put the nodes in')
    .option('--dry-run', 'check everything and print the resolved environment and steps; touch nothing')
    .option('--no-wait', 'return once the deployment started (prints its id)')
    .option('--write-workflow-id <file>', 'write the workflow id to FILE')
    .option('-S, --server <name>', 'server from the client configuration')
    .option('-M, --multi-server', 'nodes of several sites: one deployment per site')
    .option('--poll-interval <ms>', 'log polling interval (ms)', intInRange(50, 60_000));
  p.parse(process.argv);
  // One site or -M: the options are checked and the run made by the client library.
  const res = await runKadeploy(p.opts<KadeployArgs>(), { out: process.stdout, err: process.stderr }, signal);
  if (signal.aborted) return EXIT.CANCELLED;
  return res.waited ? nodeOpExitCode(res.outcomes.map((x) => x.status)) : EXIT.OK;
});
