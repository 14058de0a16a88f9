#!/usr/bin/env node
import { Command } from 'commander';
import { loadClientConfig } from '../client/client-config.js';
import { parseGridDescription } from '../client/oargrid/grid-description.js';
import { type GridSubmitFlags, parseSubmitOptions } from '../client/oargrid/grid-options.js';
import { planSites } from '../client/oargrid/grid-plan.js';
import { GridStore } from '../client/oargrid/grid-store.js';
import { submitGrid } from '../client/oargrid/grid-submit.js';
import { submitLines } from '../client/oargrid/grid-text.js';
import { requireOargrid } from '../client/oargrid/oargrid-config.js';
import { EXIT } from './common/exit-codes.js';
import { collect } from './common/options.js';
import { exitCodeForErrorCode, runCli } from './common/run-cli.js';

/** oargridsub: one advance reservation per site at the same start, all or nothing (docs/grid.md). */
await runCli('oargridsub', async (signal) => {
  const p = new Command('oargridsub')
    .description(
      'Reserve nodes on several sites at once: one OAR advance reservation per site, all starting together, sharing one job key.\n' +
        'DESC is ALIAS:rdef="nodes=N"[:prop="SQL"],... with the aliases of the client configuration\'s oargrid section.\n' +
        'Exit codes: 0 every site reserved, 1 (-F) some sites reserved, 3 bad usage, 4 a site refused (nothing kept), 5 a site unreachable (nothing kept).',
    )
    .exitOverride()
    .showHelpAfterError()
    .argument('<DESC...>', 'the description, e.g. gdx:rdef="nodes=1",paradent:rdef="nodes=1"')
    .option('-t, --type <TYPE>', 'OAR job type of every site job (repeatable), e.g. deploy', collect)
    .option('-w, --walltime <h:m:s>', 'duration of the reservation (default 1:00:00)')
    .option('-s, --start-date <"YYYY-MM-DD hh:mm:ss">', "start, on this machine's clock (default: now)")
    .option('-p, --program <PROG>', "command the first alias's site job runs at the start")
    .option('-q, --queue <QUEUE>', 'OAR queue of every site job')
    .option('-F, --force', 'keep the sites that accepted when another refuses');
  p.parse(process.argv);
  const requests = parseGridDescription(p.args);
  const options = parseSubmitOptions(p.opts<GridSubmitFlags>(), Date.now());
  const config = requireOargrid(loadClientConfig());
  // Aliases are checked before the store is touched: a typo records nothing.
  planSites(requests, config);
  const store = GridStore.open();
  try {
    const r = await submitGrid(requests, options, { config, store, signal });
    const { out, err } = submitLines(r);
    if (out.length > 0) process.stdout.write(`${out.join('\n')}\n`);
    if (err.length > 0) process.stderr.write(`${err.join('\n')}\n`);
    if (signal.aborted) return EXIT.CANCELLED;
    if (r.state === 'reserved')
      return r.sites.every((s) => s.kind === 'reserved') ? EXIT.OK : EXIT.SOME_FAILED;
    const first = r.sites.find((s) => s.kind !== 'reserved');
    return first?.kind === 'refused' ? exitCodeForErrorCode(first.code) : EXIT.REFUSED;
  } finally {
    store.close();
  }
});
