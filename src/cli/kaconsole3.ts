#!/usr/bin/env node
import { Command } from 'commander';
import { selectNodes } from '../client/deploy/node-selection.js';
import { createClient } from '../client/http-client.js';
import { runKaconsole } from '../client/nodeops/console.js';
import { KaployError } from '../common/errors.js';
import { EXIT } from './common/exit-codes.js';
import { collect } from './common/options.js';
import { runCli } from './common/run-cli.js';

/** kaconsole3: an interactive console on one node (Kadeploy 3 command line). */
await runCli('kaconsole3', async (signal) => {
  const p = new Command('kaconsole3')
    .description(
      'Open the console of one node (its serial console: boot messages and a login prompt, even without SSH).\nType ~. at the start of a line to leave.\nExit codes: 0 you left, 1 the server closed the console (rights revoked, console command ended), 3 bad usage, 4 refused, 5 server unreachable.',
    )
    .exitOverride()
    .showHelpAfterError()
    .option('-m, --machine <host>', 'the node', collect, [])
    .option('-f, --file <file>', 'file holding the node', collect, [])
    .option('-S, --server <name>', 'server from the client configuration');
  p.parse(process.argv);
  const o = p.opts();
  const nodes = await selectNodes(o.machine, o.file, { signal });
  const [node] = nodes;
  if (nodes.length !== 1 || !node)
    throw new KaployError(
      'KAPLOY_NODE_LIST',
      `a console is opened on one node at a time (got ${nodes.length}: ${nodes.join(', ')})`,
    );
  const client = createClient({ server: o.server });
  const tty = process.stdin.isTTY === true;
  try {
    // Raw mode: every key (Ctrl-C included) goes to the node, as on a real serial line.
    if (tty) process.stdin.setRawMode(true);
    const end = await runKaconsole(
      client,
      node,
      { input: process.stdin, output: process.stdout, err: process.stderr },
      signal,
    );
    return end.by === 'user' ? EXIT.OK : EXIT.SOME_FAILED;
  } finally {
    if (tty) process.stdin.setRawMode(false);
    process.stdin.pause();
    process.stdin.destroy();
    await client.close();
  }
});
