#!/usr/bin/env node
import { Command, Option } from 'commander';
import type { PowerAction } from '../api/power-request.js';
import { parseLevel } from '../api/reboot-request.js';
import { selectNodes } from '../client/deploy/node-selection.js';
import { KaployError } from '../common/errors.js';
import { type NodeOpCliOptions, runNodeOpCli } from './common/node-op-run.js';
import { collect, intInRange } from './common/options.js';
import { runCli } from './common/run-cli.js';

/** kapower3: power nodes on or off, or read their power status (Kadeploy 3 command line). */
await runCli('kapower3', async (signal) => {
  const p = new Command('kapower3')
    .description(
      'Power nodes on or off, or print their power status (node: state).\nExit codes: 0 all nodes OK, 1 some nodes failed, 2 no node succeeded, 3 bad usage, 4 refused by the server, 5 server unreachable, 130 cancelled.',
    )
    .exitOverride()
    .showHelpAfterError()
    .option('--on', 'power the nodes on')
    .option('--off', 'power the nodes off')
    .option('--status', 'print the power status of the nodes')
    .option('-l, --op-level <level>', 'soft | hard | very_hard (escalates from there)', 'soft')
    .option('-m, --machine <host>', 'node (repeatable; ranges like node-[1-4].site)', collect, [])
    .option('-f, --file <file>', 'file of nodes, one per line (- for stdin; duplicates folded)', collect, [])
    .option('-o, --output-ok-nodes <file>', 'append the nodes where it succeeded to FILE')
    .option('-n, --output-ko-nodes <file>', 'append the nodes where it failed to FILE')
    .option('--force', 'act on nodes already involved in an operation')
    .addOption(new Option('-V, --verbose-level <n>', 'verbosity 0..5').default(3).argParser(intInRange(0, 5)))
    .option('-d, --debug-mode', 'print the power commands that failed for each node')
    .option('--write-workflow-id <file>', 'write the workflow id to FILE')
    .option('-S, --server <name>', 'server from the client configuration')
    .option('-M, --multi-server', 'every server of the client configuration, each for the nodes it serves')
    .option('--poll-interval <ms>', 'log polling interval (ms)', intInRange(50, 60_000));
  p.parse(process.argv);
  const o = p.opts();
  const actions = (['on', 'off', 'status'] as const).filter((a) => o[a] === true);
  if (actions.length !== 1)
    throw new KaployError('KAPLOY_MISSING_OPTION', 'give exactly one of --on, --off, --status');
  const action = actions[0] as PowerAction;
  const level = parseLevel(o.opLevel);
  const nodes = await selectNodes(o.machine, o.file, {
    signal,
    warn: (m) => process.stderr.write(`kapower3: ${m}\n`),
  });
  const req = {
    action,
    nodes,
    level,
    ...(o.force ? { force: true } : {}),
    ...(o.debugMode ? { debug: true } : {}),
  };
  return runNodeOpCli('kapower3', { kind: 'power', request: req }, o as NodeOpCliOptions, signal);
});
