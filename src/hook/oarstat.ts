import { KaployError } from '../common/errors.js';
import { describeFailure, runCommand } from '../common/run-command.js';
import { type OarJob, parseOarstatJson } from './oar-job.js';

/**
 * Reads one job with `oarstat -J -f -j ID` (the server hooks' only source: OAR gives them no node
 * file and no OAR_* variables). undefined = OAR does not know the job.
 */
export async function readOarJob(
  oarstat: string,
  jobId: number,
  opts: { timeoutMs: number; signal: AbortSignal },
): Promise<OarJob | undefined> {
  let r: Awaited<ReturnType<typeof runCommand>>;
  try {
    r = await runCommand([oarstat, '-J', '-f', '-j', String(jobId)], {
      timeoutMs: opts.timeoutMs,
      signal: opts.signal,
    });
  } catch (e) {
    throw new KaployError('KAPLOY_EXECUTE', `oarstat: ${(e as Error).message}`, { cause: e });
  }
  if (r.code !== 0)
    throw new KaployError('KAPLOY_EXECUTE', `${oarstat} -J -f -j ${jobId} failed: ${describeFailure(r)}`);
  return parseOarstatJson(r.stdout, jobId);
}
