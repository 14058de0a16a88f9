import { RESTORE_STATES, type RestoreState } from '../api/restores.js';
import { KaployError, type KaployErrorCode } from '../common/errors.js';
import { hooksConfigFile, loadHooksConfig } from '../common/hooks-config.js';
import { HookEngine } from './hook-engine.js';
import { parseJobId } from './job-id.js';
import { adminRestores, formatRestoresReport } from './restores-admin.js';

export interface RestoresCommand {
  /** The OAR hooks' configuration file; default $KAPLOY_OAR_HOOKS_CONFIG or the system one. */
  configFile?: string;
  deliver?: boolean;
  retry?: boolean;
  job?: string;
  state?: string;
  all?: boolean;
  signal: AbortSignal;
}

/**
 * What the command reports: `engineError` when the engine did not answer or refused (its error
 * code decides the exit code), else `attention` when a restore failed or a request is still
 * undelivered.
 */
export type RestoresOutcome =
  | { text: string; engineError: KaployErrorCode }
  | { text: string; engineError?: undefined; attention: boolean };

/**
 * `kaploy oar restores`, the hooks' admin side: what the command line needs from src/hook, so it
 * never reaches into the hook's modules.
 */
export async function runRestoresCommand(o: RestoresCommand): Promise<RestoresOutcome> {
  const config = loadHooksConfig(o.configFile ?? hooksConfigFile());
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
      signal: o.signal,
      now: Date.now,
      ...(o.deliver ? { deliver: true } : {}),
      ...(o.retry ? { retry: true } : {}),
      ...(job !== undefined ? { job } : {}),
      ...(o.state !== undefined ? { state: o.state as RestoreState } : {}),
      ...(o.all ? { all: true } : {}),
    });
    const text = formatRestoresReport(report);
    if ('error' in report.engine) return { text, engineError: report.engine.code };
    const failed = report.engine.rows.some((r) => r.state === 'failed');
    const undelivered = report.spool.pending.length + report.spool.rejected.length > 0;
    return { text, attention: failed || undelivered };
  } finally {
    await engine.close();
  }
}
