#!/usr/bin/env node
import { Command } from 'commander';
import { selectNodes } from '../client/deploy/node-selection.js';
import { siteStatuses } from '../client/grid/grid-result.js';
import { configuredGridServers } from '../client/grid/grid-servers.js';
import { createClient } from '../client/http-client.js';
import { type KanodesMode, runKanodes } from '../client/nodeops/nodes.js';
import { runKanodesGrid } from '../client/nodeops/nodes-grid.js';
import { KaployError } from '../common/errors.js';
import { EXIT } from './common/exit-codes.js';
import { refuseWithMultiServer } from './common/multi-server.js';
import { collect } from './common/options.js';
import { exitCodeForStatuses } from './common/outcome-exit.js';
import { runCli } from './common/run-cli.js';

/** kanodes3: node states and running operations (Kadeploy 3 command line). */
await runCli('kanodes3', async (signal) => {
  const p = new Command('kanodes3')
    .description('Show the state of the nodes and the environment each runs, or the running operations.')
    .exitOverride()
    .showHelpAfterError()
    .option('-s, --get-nodes-state', 'the state of the nodes (default)')
    .option('-d, --get-deployments-status', 'the running deployments')
    .option('-r, --get-reboots-status', 'the running reboots')
    .option('-p, --get-powers-status', 'the running power operations')
    .option('-c, --get-consoles-status', 'the open consoles')
    .option('-a, --get-all-status', 'every running operation')
    .option('-w, --workflow-id <wid>', 'only this operation (also once finished, when it is yours)')
    .option('-m, --machine <host>', 'only these nodes (repeatable; ranges)', collect, [])
    .option('-f, --file <file>', 'only the nodes of FILE', collect, [])
    .option('-S, --server <name>', 'server from the client configuration')
    .option('-M, --multi-server', 'every server of the client configuration (lines prefixed [server])');
  p.parse(process.argv);
  const o = p.opts();
  const modes: [string, KanodesMode][] = [
    ['getNodesState', 'nodes'],
    ['getDeploymentsStatus', 'deploy'],
    ['getRebootsStatus', 'reboot'],
    ['getPowersStatus', 'power'],
    ['getConsolesStatus', 'console'],
    ['getAllStatus', 'all'],
  ];
  const picked = modes.filter(([k]) => o[k] === true).map(([, m]) => m);
  if (picked.length > 1)
    throw new KaployError('KAPLOY_CONFLICTING_OPTIONS', 'give one of -s, -d, -r, -p, -c, -a');
  const mode: KanodesMode = picked[0] ?? (o.workflowId ? 'all' : 'nodes');
  // A malformed id is a bad command line (3); KAPLOY_INVALID_WORKFLOW_ID is the server's "no such operation" (4).
  if (o.workflowId && !/^[DRPC]-[0-9a-f-]{36}$/.test(o.workflowId))
    throw new KaployError('KAPLOY_OPTION', `invalid workflow id '${o.workflowId}'`);
  const nodes =
    o.machine.length > 0 || o.file.length > 0 ? await selectNodes(o.machine, o.file, { signal }) : undefined;
  refuseWithMultiServer(o.multiServer, { '-S': o.server, '-w': o.workflowId });
  if (o.multiServer) {
    const runs = await runKanodesGrid(
      configuredGridServers(),
      { mode, ...(nodes ? { nodes } : {}) },
      { out: process.stdout, err: process.stderr },
      signal,
    );
    return exitCodeForStatuses(siteStatuses(runs));
  }
  const client = createClient({ server: o.server });
  try {
    await runKanodes(
      client,
      { mode, ...(nodes ? { nodes } : {}), ...(o.workflowId ? { wid: o.workflowId } : {}) },
      process.stdout,
      signal,
    );
    return EXIT.OK;
  } finally {
    await client.close();
  }
});
