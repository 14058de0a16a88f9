import type { Command } from 'commander';
import { RESTORE_STATES } from '../api/restores.js';
import { hooksConfigFile } from '../common/hooks-config.js';
import { runRestoresCommand } from '../hook/admin.js';
import { EXIT } from './common/exit-codes.js';
import { exitCodeForErrorCode } from './common/run-cli.js';
import type { SubcommandContext } from './common/subcommand.js';

interface RestoresFlags {
  config?: string;
  retry?: boolean;
  deliver?: boolean;
  job?: string;
  state?: string;
  all?: boolean;
}

/** `kaploy oar ...`: admin commands of the OAR integration (the hooks themselves are hooks/*). */
export function registerOar(program: Command, ctx: SubcommandContext): void {
  const oar = program.command('oar').description('OAR integration: production restores after deploy jobs');
  oar
    .command('restores')
    .description(
      'show pending and failed production restores (engine and local spool); --deliver / --retry act on them',
    )
    .option(
      '-c, --config <FILE>',
      `OAR hooks configuration (default $KAPLOY_OAR_HOOKS_CONFIG or ${hooksConfigFile({})})`,
    )
    .option('--deliver', 'hand the spooled (undelivered) restore requests to the engine now')
    .option('--retry', 'deliver the spool, then set the failed restores pending again')
    .option('--job <ID>', 'only this OAR job')
    .option('--state <STATE>', `only restores in this state (${RESTORE_STATES.join(', ')})`)
    .option('--all', 'also show finished (done, superseded) restores')
    .action(async (o: RestoresFlags) => {
      const { config, ...flags } = o;
      const res = await runRestoresCommand({
        ...flags,
        ...(config !== undefined ? { configFile: config } : {}),
        signal: ctx.signal,
      });
      process.stdout.write(res.text);
      // The engine's answer decides first: unreachable or bad token 5, refused 4 (README's table).
      if (res.engineError !== undefined) return ctx.setCode(exitCodeForErrorCode(res.engineError));
      ctx.setCode(res.attention ? EXIT.SOME_FAILED : EXIT.OK);
    });
}
