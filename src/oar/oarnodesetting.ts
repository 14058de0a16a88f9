import { describeFailure, runCommand } from './run-command.js';

export interface NodesStateResult {
  ok: boolean;
  /** Hosts oarnodesetting reported unknown ("Node X does not exist in OAR database", exit 4). */
  unknown: string[];
  error?: string;
}

/**
 * Takes the job's hosts out of scheduling: `oarnodesetting -n -s Absent -h H1 -h H2 ...` (one run
 * for all hosts: each run costs a Perl start and a database connection).
 * `-n` matters: without it oarnodesetting waits for the jobs on the node to end, and the job on
 * them is this very one, Finishing until the epilogue returns: the epilogue would wait for itself
 * until OAR's timeout kills it (and stops every queue).
 */
export async function setNodesAbsent(
  oarnodesetting: string,
  nodes: readonly string[],
  opts: { timeoutMs: number; signal: AbortSignal },
): Promise<NodesStateResult> {
  const argv = [oarnodesetting, '-n', '-s', 'Absent', ...nodes.flatMap((n) => ['-h', n])];
  let r: Awaited<ReturnType<typeof runCommand>>;
  try {
    r = await runCommand(argv, opts);
  } catch (e) {
    return { ok: false, unknown: [], error: (e as Error).message };
  }
  const unknown = [...`${r.stderr}`.matchAll(/Node (\S+) does not exist in OAR database/g)].map(
    (m) => m[1] ?? '',
  );
  // Exit 4 = some hosts unknown to OAR: the known ones were set (oarnodesetting sets them one by
  // one), and OAR cannot schedule the unknown ones anyway.
  if (r.code === 0 || (r.code === 4 && unknown.length > 0)) return { ok: true, unknown };
  return { ok: false, unknown, error: describeFailure(r) };
}
