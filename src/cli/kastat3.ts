#!/usr/bin/env node
import { Command } from 'commander';
import { siteStatuses } from '../client/grid/grid-result.js';
import { configuredGridServers } from '../client/grid/grid-servers.js';
import { createClient } from '../client/http-client.js';
import { fetchStats } from '../client/stats/fetch-stats.js';
import { fetchStatsGrid } from '../client/stats/fetch-stats-grid.js';
import { type KastatFlags, kastatQuery } from '../client/stats/kastat-flags.js';
import { DATE_FORMATS } from '../stats/dates.js';
import { DEFAULT_FIELDS, STATS_FIELDS } from '../stats/fields.js';
import { EXIT } from './common/exit-codes.js';
import { refuseWithMultiServer } from './common/multi-server.js';
import { collect } from './common/options.js';
import { exitCodeForStatuses } from './common/outcome-exit.js';
import { runCli } from './common/run-cli.js';

/** kastat3: deployment statistics as CSV (Kadeploy 3.1 command line, plus 3.3's options that do not clash). */
await runCli('kastat3', async (signal) => {
  // A reader that stops early (`| head`) closes our stdout: that ends the output, it is no error.
  process.stdout.on('error', (e: NodeJS.ErrnoException) => {
    if (e.code !== 'EPIPE') process.exitCode = EXIT.INTERNAL;
  });
  const p = new Command('kastat3')
    .description(
      `Print deployment statistics (CSV, one line per node per operation).\nDates: ${DATE_FORMATS}.\nExit codes: 0 ok, 1 (-M) some servers failed, 3 bad usage, 4 refused by the server, 5 server unreachable or authentication failed.`,
    )
    .exitOverride()
    .showHelpAfterError()
    // Kadeploy's help is not wrapped: `kastat3 --help | grep '\-\-field'` shows the whole field list.
    .configureHelp({ helpWidth: 1000 })
    .option('-a, --list-min-retries <NB>', 'Print the statistics about the nodes that need several attempts')
    .option('-b, --list-failure-rate', 'Print the failure rate for the nodes')
    .option(
      '-c, --list-min-failure-rate <RATE>',
      'Print the nodes which have a minimum failure-rate of RATE (0 <= RATE <= 100)',
    )
    .option('-d, --list-all', 'Print all the information')
    .option(
      '-f, --field <FIELD>',
      `Only print the given fields (${DEFAULT_FIELDS.join(',')}; also ${STATS_FIELDS.filter((f) => !DEFAULT_FIELDS.includes(f)).join(',')})`,
      collect,
    )
    .option(
      '-F, --fields <LIST>',
      'Only print the given fields, as a comma-separated list (same fields as -f)',
    )
    .option('-l, --last', 'Only print the most recent information of selected machines')
    .option(
      '-m, --machine <MACHINE>',
      'Only print information about the given machines (repeatable; ranges like node-[1-4].site)',
      collect,
    )
    .option('-s, --step <STEP>', 'Apply the retry filter on the given steps (1, 2 or 3; repeatable)', collect)
    .option('-w, --workflow-id <ID>', 'Get the stats of a specific operation (workflow id)')
    .option('-x, --date-min <DATE>', 'Get the stats from this date (yyyy:mm:dd:hh:mm:ss, or ISO 8601)')
    .option('-y, --date-max <DATE>', 'Get the stats to this date (yyyy:mm:dd:hh:mm:ss, or ISO 8601)')
    .option('-o, --operation <OP>', 'Operation kind: deploy, reboot, power or all (default: deploy)')
    .option('--limit <N>', 'Print at most N lines')
    .option(
      '--sort <FIELDS>',
      'Sort by these fields (comma-separated, each FIELD or FIELD:desc; default: start)',
    )
    .option('--header', 'Print the field names as a first line')
    .option('-S, --server <NAME>', 'Kadeploy server to use (from the client configuration)')
    .option(
      '-M, --multi-server',
      'Every server of the client configuration: one CSV, the server name as a first field',
    );
  p.parse(process.argv);
  const o = p.opts<KastatFlags & { server?: string; multiServer?: boolean }>();
  const { raw, query } = kastatQuery(o);
  refuseWithMultiServer(o.multiServer, { '-S': o.server });
  if (o.multiServer) {
    const { sites, bytes } = await fetchStatsGrid(
      configuredGridServers(),
      raw,
      query,
      { out: process.stdout, err: process.stderr },
      signal,
    );
    if (bytes === 0) process.stderr.write('No information is available\n');
    return exitCodeForStatuses(siteStatuses(sites));
  }
  const client = createClient(o.server === undefined ? {} : { server: o.server });
  try {
    const { bytes } = await fetchStats(client, raw, query, { out: process.stdout, signal });
    if (bytes === 0) process.stderr.write('No information is available\n');
  } finally {
    await client.close();
  }
  return EXIT.OK;
});
