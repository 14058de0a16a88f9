import type { Command } from 'commander';
import { RESTORE_STATES, type RestoreState } from '../api/restores.js';
import { KaployError } from '../common/errors.js';
import { hooksConfigFile, loadHooksConfig } from '../common/hooks-config.js';
import { HookEngine } from '../hook/hook-engine.js';
import { parseJobId } from '../hook/job-id.js';
import { adminRestores, formatRestoresReport } from '../hook/restores-admin.js';
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
      const config = loadHooksConfig(o.config ?? hooksConfigFile());
      const job = o.job === undefined ? undefined : parseJobId(o.job);
      if (o.state !== undefined && !RESTORE_STATES.includes(o.state as RestoreState)) {
        throw new KaployError(
          'KAPLOY_OPTION',
          `invalid --state '${o.state}': expected one of ${RESTORE_STATES.join(', ')}`,
        );
      }
      const engine = HookEngine.fromConfig(config);
      try {
        const report = await adminRestores({
          config,
          engine,
          signal: ctx.signal,
          now: Date.now,
          ...(o.deliver ? { deliver: true } : {}),
          ...(o.retry ? { retry: true } : {}),
          ...(job !== undefined ? { job } : {}),
          ...(o.state !== undefined ? { state: o.state as RestoreState } : {}),
          ...(o.all ? { all: true } : {}),
        });
        process.stdout.write(formatRestoresReport(report));
        // The engine's answer decides first: unreachable or bad token 5, refused 4 (README's table).
        if ('error' in report.engine) return ctx.setCode(exitCodeForErrorCode(report.engine.code));
        const failed = report.engine.rows.some((r) => r.state === 'failed');
        const undelivered = report.spool.pending.length + report.spool.rejected.length > 0;
        ctx.setCode(failed || undelivered ? EXIT.SOME_FAILED : EXIT.OK);
      } finally {
        await engine.close();
      }
    });
}
