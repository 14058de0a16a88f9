#!/usr/bin/env node
import { readFileSync } from 'node:fs';
import { Command, Option, type OptionValues } from 'commander';
import type { EnvironmentRef } from '../api/deploy-request.js';
import { clientConfigPath, loadClientConfig } from '../client/client-config.js';
import { type KadeployOptions, runKadeploy } from '../client/deploy/kadeploy.js';
import { selectNodes } from '../client/deploy/node-selection.js';
import { readKeys } from '../client/deploy/read-keys.js';
import { resolveEnvironmentForDeploy } from '../client/environments/environments.js';
import { fetchKeys, gridDeploy, gridServers, isUrl } from '../client/grid/index.js';
import { createClient } from '../client/http-client.js';
import { KaployError } from '../common/errors.js';
import { EXIT } from './common/exit-codes.js';
import { collect, intInRange } from './common/options.js';
import { exitCodeForStatuses } from './common/outcome-exit.js';
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
    .option('-s, --script <file>', 'run FILE at the end')
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
  const o = p.opts();
  if (!o.resume && !o.envName === !o.envFile) {
    throw new KaployError(
      'KAPLOY_MISSING_OPTION',
      'give exactly one of -e/--env-name NAME or -a/--env-file FILE',
    );
  }
  if (o.multiServer) {
    // The grid orchestrator (src/client/grid): every configured server, one deployment per site.
    const bad = [o.resume && '--resume', o.writeWorkflowId && '--write-workflow-id', o.server && '-S'].filter(
      Boolean,
    );
    if (bad.length > 0) {
      throw new KaployError(
        'KAPLOY_CONFLICTING_OPTIONS',
        `-M/--multi-server cannot be used with ${bad.join(', ')} (one deployment per site)`,
      );
    }
    const res = await gridDeploy(
      gridServers(loadClientConfig(clientConfigPath())),
      {
        nodes: selectNodes(
          o.machine,
          o.file,
          () => readFileSync(0, 'utf8'),
          (m) => process.stderr.write(`kadeploy3: ${m}\n`),
        ),
        environment: o.envFile
          ? { kind: 'file', file: o.envFile, cwd: process.cwd() }
          : {
              kind: 'recorded',
              name: o.envName,
              ...(o.envUser ? { user: o.envUser } : {}),
              ...(o.envVersion ? { version: o.envVersion } : {}),
            },
        ...(o.key ? { keys: await keysFrom(o.key, signal) } : {}),
        request: deployRequest(o),
        verbose: o.verboseLevel,
        outputOk: o.outputOkNodes,
        outputKo: o.outputKoNodes,
        script: o.script,
        wait: o.wait !== false,
        dryRun: o.dryRun === true,
        ...(o.pollInterval ? { pollIntervalMs: o.pollInterval } : {}),
        warn: (m) => process.stderr.write(`kadeploy3: warning: ${m}\n`),
      },
      { out: process.stdout, err: process.stderr },
      signal,
    );
    if (signal.aborted) return EXIT.CANCELLED;
    if (o.wait === false || o.dryRun) return EXIT.OK;
    return exitCodeForStatuses(res.outcomes.map((x) => x.status));
  }
  // --resume needs neither nodes nor environment: the server has them from the stopped deployment.
  const nodes = o.resume
    ? []
    : selectNodes(
        o.machine,
        o.file,
        () => readFileSync(0, 'utf8'),
        (m) => process.stderr.write(`kadeploy3: ${m}\n`),
      );
  const keys = o.key ? await keysFrom(o.key, signal) : undefined;
  const client = createClient({ server: o.server });
  // -a FILE|URL: parsed here first (errors with file and line), local image files uploaded.
  const anonymous =
    o.envFile && !o.resume
      ? await resolveEnvironmentForDeploy(client, { file: o.envFile, signal })
      : undefined;
  if (anonymous?.anonymous)
    for (const w of anonymous.warnings) process.stderr.write(`kadeploy3: warning: ${w}\n`);
  const environment: EnvironmentRef = anonymous?.anonymous
    ? { kind: 'anonymous', ...anonymous.source }
    : {
        kind: 'recorded',
        name: o.envName ?? '',
        ...(o.envUser ? { user: o.envUser } : {}),
        ...(o.envVersion ? { version: o.envVersion } : {}),
      };
  try {
    const res = await runKadeploy(
      client,
      {
        nodes,
        environment,
        ...(keys ? { keys } : {}),
        request: deployRequest(o),
        verbose: o.verboseLevel,
        outputOk: o.outputOkNodes,
        outputKo: o.outputKoNodes,
        script: o.script,
        writeWorkflowId: o.writeWorkflowId,
        wait: o.wait !== false,
        dryRun: o.dryRun === true,
        ...(o.resume ? { resume: o.resume } : {}),
        ...(o.pollInterval ? { pollIntervalMs: o.pollInterval } : {}),
      },
      { out: process.stdout, err: process.stderr },
      signal,
    );
    if (!res.started || !res.wid || o.wait === false) return EXIT.OK;
    if (signal.aborted) return EXIT.CANCELLED;
    return exitCodeForStatuses(res.outcomes.map((x) => x.status));
  } finally {
    await client.close();
  }
});

/** -k [FILE|URL]: the tutorial's multi-site section keeps authorized_keys on a web server. */
function keysFrom(key: string | true, signal: AbortSignal) {
  return typeof key === 'string' && isUrl(key) ? fetchKeys(key, signal) : Promise.resolve(readKeys(key));
}

/** The workflow options of a deployment request, from the command line (single site and -M). */
function deployRequest(o: OptionValues): KadeployOptions['request'] {
  return {
    ...(o.partitionNumber ? { partition: o.partitionNumber } : {}),
    ...(o.blockDevice ? { blockDevice: o.blockDevice } : {}),
    ...(o.forceSteps ? { forceSteps: o.forceSteps } : {}),
    ...(o.breakpoint ? { breakpoint: o.breakpoint } : {}),
    ...(o.rebootClassicalTimeout ? { rebootClassicalTimeout: o.rebootClassicalTimeout } : {}),
    ...(o.rebootKexecTimeout ? { rebootKexecTimeout: o.rebootKexecTimeout } : {}),
    ...(o.kexec === false ? { noKexec: true } : {}),
    ...(o.disableBootloaderInstall ? { disableBootloaderInstall: true } : {}),
    ...(o.disableDiskPartitioning ? { disableDiskPartitioning: true } : {}),
    ...(o.reformatTmp ? { reformatTmp: o.reformatTmp } : {}),
    ...(o.vlan ? { vlan: o.vlan } : {}),
    ...(o.force ? { force: true } : {}),
    ...(o.debugMode ? { debug: true } : {}),
  };
}
