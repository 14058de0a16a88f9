#!/usr/bin/env node
import { Command } from 'commander';
import { loadClientConfig } from '../client/client-config.js';
import {
  DEFAULT_WAIT_AFTER_START_S,
  gridHosts,
  gridStatus,
  waitRunning,
} from '../client/oargrid/grid-status.js';
import { GridStore, parseGridId } from '../client/oargrid/grid-store.js';
import { statusLines } from '../client/oargrid/grid-text.js';
import { requireOargrid } from '../client/oargrid/oargrid-config.js';
import { KaployError } from '../common/errors.js';
import { EXIT } from './common/exit-codes.js';
import { runCli } from './common/run-cli.js';

/** oargridstat: a grid reservation's site jobs (-l: its hosts; -w: once every site job runs). */
await runCli('oargridstat', async (signal) => {
  const p = new Command('oargridstat')
    .description(
      "Show a grid reservation made by oargridsub: each site's job and state.\n" +
        'Exit codes: 0 ok, 3 bad usage, 4 unknown id, a site job that will not run or not running by the end of the wait (-w), or a site answering garbage, 5 a site unreachable.',
    )
    .exitOverride()
    .showHelpAfterError()
    .argument('<ID>', 'the grid reservation id oargridsub printed')
    .option('-l, --list', 'print every assigned host, once per core, then a blank line')
    .option('-w, --wait', 'wait until the job of every site runs')
    .option(
      '--max-wait <SECONDS>',
      `with -w: give up after this long (default: until ${DEFAULT_WAIT_AFTER_START_S / 60} min past the reservation's start)`,
    );
  p.parse(process.argv);
  const o = p.opts<{ list?: boolean; wait?: boolean; maxWait?: string }>();
  const id = parseGridId(p.args[0]);
  const maxWaitS = o.maxWait === undefined ? undefined : parseMaxWait(o.maxWait);
  const config = requireOargrid(loadClientConfig());
  const store = GridStore.open();
  try {
    const deps = { config, store, signal };
    store.mustGet(id);
    if (o.wait)
      await waitRunning(id, deps, maxWaitS === undefined ? {} : { untilMs: Date.now() + maxWaitS * 1000 });
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

/** --max-wait: whole seconds, 1 s to 31 days (an advance reservation a month ahead). */
function parseMaxWait(text: string): number {
  const n = /^\d{1,7}$/.test(text) ? Number(text) : Number.NaN;
  if (!(n >= 1 && n <= 31 * 86_400))
    throw new KaployError(
      'KAPLOY_OPTION',
      `--max-wait '${text.slice(0, 32)}': expected whole seconds from 1 to 2678400`,
    );
  return n;
}
