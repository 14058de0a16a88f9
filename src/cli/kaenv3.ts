#!/usr/bin/env node
import { Command, Option } from 'commander';
import { parseFileMoves } from '../api/file-moves.js';
import { readDescriptionFile } from '../client/environments/environments.js';
import {
  assertVisibility,
  type KaenvAction,
  runKaenv,
  runKaenvListGrid,
} from '../client/environments/kaenv.js';
import { siteStatuses } from '../client/grid/grid-result.js';
import { configuredGridServers } from '../client/grid/grid-servers.js';
import { createClient } from '../client/http-client.js';
import { KaployError } from '../common/errors.js';
import { KAPLOY_VERSION } from '../common/version.js';
import { assertUserName } from '../formats/user-name.js';
import { refuseWithMultiServer } from './common/multi-server.js';
import { exitCodeForStatuses } from './common/outcome-exit.js';
import { runCli } from './common/run-cli.js';

/** kaenv3: manage environments (Kadeploy 3.1 option names, plus the 3.3 ones that do not conflict). */
await runCli('kaenv3', async (signal) => {
  const program = new Command('kaenv3')
    .description('Manage the environments recorded on a kaploy site engine')
    .exitOverride()
    .showHelpAfterError()
    .version(KAPLOY_VERSION, '-v, --version')
    .option('-l, --list [NAME]', "list environments (NAME may use '%' as a wildcard)")
    .option('-p, --print <NAME>', 'print the description of an environment (re-addable with -a)')
    .option('-a, --add <FILE>', "add the environment described in FILE ('-' = stdin)")
    .option('-d, --delete <NAME>', 'delete an environment (every version unless --env-version)')
    .option('-u, --env-user <USER>', 'owner of the environment')
    .option('--env-version <N>', 'version of the environment (default: the latest)')
    .option('-s, --all-versions', 'list every version')
    .addOption(new Option('--show-all-versions', 'same as --all-versions (Kadeploy 3.1)').hideHelp())
    .option('-t, --visibility-tag <TAG>', 'visibility for --set-visibility-tag: public, shared or private')
    .option('--set-visibility-tag <NAME>', 'change the visibility of an environment (with -t)')
    .option('--toggle-destructive-tag <NAME>', 'toggle the destructive tag of an environment')
    .addOption(
      new Option(
        '--remove-demolishing-tag <NAME>',
        'same as --toggle-destructive-tag (Kadeploy 3.1)',
      ).hideHelp(),
    )
    .option('--update-image-checksum <NAME>', 'record the current checksum of the image')
    .option('--update-postinstalls-checksum <NAME>', 'record the current checksums of the postinstalls')
    .addOption(
      new Option('--update-tarball-md5 <NAME>', 'same as --update-image-checksum (Kadeploy 3.1)').hideHelp(),
    )
    .addOption(
      new Option(
        '--update-postinstalls-md5 <NAME>',
        'same as --update-postinstalls-checksum (Kadeploy 3.1)',
      ).hideHelp(),
    )
    .addOption(
      new Option(
        '--update-preinstall-md5 <NAME>',
        'same as --update-postinstalls-checksum (Kadeploy 3.1)',
      ).hideHelp(),
    )
    .option('--move-files', 'rewrite the file paths of every environment (admins; with -m)')
    .option('-m, --files-to-move <FILES>', 'moves for --move-files: SRC::DST[,SRC::DST...]')
    .option('-S, --server <NAME>', 'server from the client configuration')
    .option(
      '-M, --multi-server',
      'with -l: list the environments of every server of the client configuration',
    );
  program.parse(process.argv);
  const o = program.opts<Record<string, string | boolean | undefined>>();

  const actions: KaenvAction[] = [];
  const str = (k: string) => (typeof o[k] === 'string' ? (o[k] as string) : undefined);
  if (o.list !== undefined)
    actions.push({ kind: 'list', ...(typeof o.list === 'string' ? { pattern: o.list } : {}) });
  if (str('print')) actions.push({ kind: 'print', name: str('print') as string });
  if (str('add')) {
    const file = str('add') as string;
    actions.push({
      kind: 'add',
      file,
      ...(file === '-' ? { text: await readDescriptionFile('-', '', signal) } : {}),
    });
  }
  if (str('delete')) actions.push({ kind: 'delete', name: str('delete') as string });
  const vis = str('setVisibilityTag');
  if (vis) {
    const tag = str('visibilityTag');
    if (!tag)
      throw new KaployError(
        'KAPLOY_MISSING_OPTION',
        '--set-visibility-tag needs -t/--visibility-tag public|shared|private',
      );
    actions.push({ kind: 'set-visibility', name: vis, visibility: assertVisibility(tag) });
  }
  const tog = str('toggleDestructiveTag') ?? str('removeDemolishingTag');
  if (tog) actions.push({ kind: 'toggle-destructive', name: tog });
  const image = str('updateImageChecksum') ?? str('updateTarballMd5');
  if (image) actions.push({ kind: 'update-image-checksum', name: image });
  // Pre- and postinstall archives are re-checked together.
  const archives =
    str('updatePostinstallsChecksum') ?? str('updatePostinstallsMd5') ?? str('updatePreinstallMd5');
  if (archives) actions.push({ kind: 'update-postinstalls-checksum', name: archives });
  if (o.moveFiles) {
    const spec = str('filesToMove');
    if (!spec) throw new KaployError('KAPLOY_MISSING_OPTION', '--move-files needs -m SRC::DST[,SRC::DST...]');
    actions.push({ kind: 'move-files', moves: parseFileMoves(spec) });
  }
  if (actions.length === 0) {
    throw new KaployError(
      'KAPLOY_MISSING_OPTION',
      'nothing to do: give one of -l, -p, -a, -d, --set-visibility-tag, --toggle-destructive-tag, --update-*-checksum, --move-files',
    );
  }
  if (actions.length > 1)
    throw new KaployError('KAPLOY_CONFLICTING_OPTIONS', 'give only one action at a time');

  let version: number | undefined;
  const v = str('envVersion');
  if (v !== undefined) {
    if (!/^\d{1,7}$/.test(v))
      throw new KaployError('KAPLOY_OPTION', `invalid --env-version '${v}': expected a non-negative integer`);
    version = Number(v);
  }
  const user = str('envUser');
  if (user !== undefined) assertUserName(user);

  const action = actions[0] as KaenvAction;
  const options = {
    ...(user !== undefined ? { user } : {}),
    ...(version !== undefined ? { version } : {}),
    allVersions: o.allVersions === true || o.showAllVersions === true,
  };
  if (o.multiServer) {
    refuseWithMultiServer(true, { '-S': str('server') });
    if (action.kind !== 'list')
      throw new KaployError(
        'KAPLOY_CONFLICTING_OPTIONS',
        '-M/--multi-server only lists (-l): change environments per site with -S NAME',
      );
    const runs = await runKaenvListGrid(
      configuredGridServers(),
      { ...options, action },
      { out: process.stdout, err: process.stderr, cwd: process.cwd() },
      signal,
    );
    return exitCodeForStatuses(siteStatuses(runs));
  }
  const client = createClient({ ...(str('server') ? { server: str('server') as string } : {}) });
  try {
    return await runKaenv(
      { action, ...options },
      { client, stdout: process.stdout, stderr: process.stderr, cwd: process.cwd(), signal },
    );
  } finally {
    await client.close();
  }
});
