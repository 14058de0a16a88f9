#!/usr/bin/env node
import { Command } from 'commander';
import { loadClientConfig } from '../client/client-config.js';
import { gridHosts, gridStatus, waitRunning } from '../client/oargrid/grid-status.js';
import { GridStore, parseGridId } from '../client/oargrid/grid-store.js';
import { statusLines } from '../client/oargrid/grid-text.js';
import { requireOargrid } from '../client/oargrid/oargrid-config.js';
import { EXIT } from './common/exit-codes.js';
import { runCli } from './common/run-cli.js';

/** oargridstat: a grid reservation's site jobs (-l: its hosts; -w: once every site job runs). */
await runCli('oargridstat', async (signal) => {
  const p = new Command('oargridstat')
    .description(
      "Show a grid reservation made by oargridsub: each site's job and state.\n" +
        'Exit codes: 0 ok, 3 bad usage, 4 unknown id, a site job that will not run (-w) or a site answering garbage, 5 a site unreachable.',
    )
    .exitOverride()
    .showHelpAfterError()
    .argument('<ID>', 'the grid reservation id oargridsub printed')
    .option('-l, --list', 'print every assigned host, once per core, then a blank line')
    .option('-w, --wait', 'wait until the job of every site runs');
  p.parse(process.argv);
  const o = p.opts<{ list?: boolean; wait?: boolean }>();
  const id = parseGridId(p.args[0]);
  const config = requireOargrid(loadClientConfig());
  const store = GridStore.open();
  try {
    const deps = { config, store, signal };
    store.mustGet(id);
    if (o.wait) await waitRunning(id, deps);
    if (o.list) {
      const hosts = await gridHosts(id, deps);
      process.stdout.write(`${hosts.map((h) => `${h}\n`).join('')}\n`);
      return EXIT.OK;
    }
    const { grid, sites } = await gridStatus(id, deps);
    process.stdout.write(`${statusLines(grid, sites).join('\n')}\n`);
    return EXIT.OK;
  } finally {
    store.close();
  }
});
