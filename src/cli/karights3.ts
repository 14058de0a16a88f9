#!/usr/bin/env node
import { Command } from 'commander';
import { assertPartition } from '../api/rights.js';
import { MAX_NODE_FILE_BYTES } from '../client/deploy/node-selection.js';
import { createClient } from '../client/http-client.js';
import { readBoundedFile } from '../client/read-bounded-file.js';
import { runKarights } from '../client/rights/karights.js';
import { KaployError } from '../common/errors.js';
import { KAPLOY_VERSION } from '../common/version.js';
import { expandRange, parseNodeFile } from '../formats/node-names.js';
import { assertUserName } from '../formats/user-name.js';
import { runCli } from './common/run-cli.js';

const collect = (v: string, prev: string[] = []) => [...prev, v];

/** karights3: rights per user, node and partition (site administrators; the OAR hooks use it). */
await runCli('karights3', async (signal) => {
  const program = new Command('karights3')
    .description('Grant, revoke and list deployment rights on a kaploy site engine')
    .exitOverride()
    .showHelpAfterError()
    .version(KAPLOY_VERSION, '-v, --version')
    .option('-a, --add', 'add rights')
    .option('-d, --delete', 'delete rights (ends the user operations on those nodes)')
    .option('-l, --list', 'list rights')
    .option('-u, --user <USER>', 'the user whose rights are changed or listed')
    .option('-m, --machine <NODE>', "node, range (node-[1-3].site) or '*' (repeatable)", collect)
    .option('-f, --file <FILE>', "file of nodes ('-' = stdin; OAR node files accepted)")
    .option('-p, --part <PART>', "partition (/dev/sda3, a number, or '*'; repeatable)", collect)
    .option('-o, --overwrite-rights', 'replace the user existing rights on these nodes')
    .option('-S, --server <NAME>', 'server from the client configuration');
  program.parse(process.argv);
  const o = program.opts<{
    add?: boolean;
    delete?: boolean;
    list?: boolean;
    user?: string;
    machine?: string[];
    file?: string;
    part?: string[];
    overwriteRights?: boolean;
    server?: string;
  }>();
  const actions = (['add', 'delete', 'list'] as const).filter((a) => o[a]);
  if (actions.length !== 1)
    throw new KaployError(
      actions.length ? 'KAPLOY_CONFLICTING_OPTIONS' : 'KAPLOY_MISSING_OPTION',
      'give exactly one of -a, -d or -l',
    );
  const action = actions[0] as 'add' | 'delete' | 'list';

  const nodes: string[] = [];
  // Loops, not push(...names): spreading 100,000 names overflows the call stack.
  for (const m of o.machine ?? []) for (const n of m === '*' ? ['*'] : expandRange(m)) nodes.push(n);
  if (o.file !== undefined) {
    const text = await readBoundedFile(o.file, { limit: MAX_NODE_FILE_BYTES, what: 'node file', signal });
    for (const n of parseNodeFile(text, o.file)) nodes.push(n);
  }
  const partitions = o.part?.map(assertPartition);
  if (o.user !== undefined) assertUserName(o.user);
  if (action !== 'list') {
    if (o.user === undefined)
      throw new KaployError(
        'KAPLOY_MISSING_OPTION',
        `-u USER is needed with -${action === 'add' ? 'a' : 'd'}`,
      );
    if (nodes.length === 0)
      throw new KaployError('KAPLOY_MISSING_OPTION', "no node given: use -m NODE (or '*') or -f FILE");
    if (action === 'add' && !partitions)
      throw new KaployError('KAPLOY_MISSING_OPTION', "-p PART (or '*') is needed with -a");
  }
  if (o.overwriteRights && action !== 'add')
    throw new KaployError('KAPLOY_CONFLICTING_OPTIONS', '-o only goes with -a');

  const client = createClient({ ...(o.server ? { server: o.server } : {}) });
  try {
    return await runKarights(
      {
        action,
        ...(o.user !== undefined ? { user: o.user } : {}),
        ...(nodes.length ? { nodes: [...new Set(nodes)] } : {}),
        ...(partitions ? { partitions } : {}),
        overwrite: o.overwriteRights === true,
      },
      { client, stdout: process.stdout, stderr: process.stderr, signal },
    );
  } finally {
    await client.close();
  }
});
