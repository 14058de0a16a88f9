#!/usr/bin/env node
import { Command } from 'commander';
import { loadClientConfig } from '../client/client-config.js';
import { deleteGrid } from '../client/oargrid/grid-delete.js';
import { GridStore, parseGridId } from '../client/oargrid/grid-store.js';
import { deleteLines } from '../client/oargrid/grid-text.js';
import { requireOargrid } from '../client/oargrid/oargrid-config.js';
import { EXIT } from './common/exit-codes.js';
import { runCli } from './common/run-cli.js';

/** oargriddel: deletes every site job of a grid reservation; what could not be deleted stays recorded. */
await runCli('oargriddel', async (signal) => {
  const p = new Command('oargriddel')
    .description(
      'Delete every site job of a grid reservation made by oargridsub.\n' +
        'Exit codes: 0 every job deleted, 1 some could not be (the reservation stays recorded: run oargriddel again), 3 bad usage, 4 unknown id.',
    )
    .exitOverride()
    .showHelpAfterError()
    .argument('<ID>', 'the grid reservation id oargridsub printed');
  p.parse(process.argv);
  const id = parseGridId(p.args[0]);
  const config = requireOargrid(loadClientConfig());
  const store = GridStore.open();
  try {
    const outcomes = await deleteGrid(id, { config, store, signal });
    const { out, err } = deleteLines(id, outcomes);
    if (out.length > 0) process.stdout.write(`${out.join('\n')}\n`);
    if (err.length > 0) process.stderr.write(`${err.join('\n')}\n`);
    return outcomes.every((d) => d.deleted) ? EXIT.OK : EXIT.SOME_FAILED;
  } finally {
    store.close();
  }
});
