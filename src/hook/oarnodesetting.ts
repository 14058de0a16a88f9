import { describeFailure, runCommand } from '../common/run-command.js';

export interface NodesStateResult {
  ok: boolean;
  /** Hosts oarnodesetting reported unknown ("Node X does not exist in OAR database", exit 4). */
  unknown: string[];
  error?: string;
}

/**
 * Takes the job's hosts out of scheduling: `oarnodesetting -n -s Absent -r ID -r ID ...` with the
 * job's resource ids, or `-h HOST -h HOST ...` when they are not known (node-level hooks). One run
 * for all: each run costs a Perl start and a database connection. Resource ids are set by one
 * UPDATE (OAR::IO::set_resources_nextState), hosts one by one (set_node_nextState): 4 s against
 * 0.3 s for 1,000 hosts on OAR 2.5.9, so ids first, hosts as the fallback.
 * `-n` matters: without it oarnodesetting waits for the jobs on the node to end, and the job on
 * them is this very one, Finishing until the epilogue returns: the epilogue would wait for itself
 * until OAR's timeout kills it (and stops every queue).
 */
export async function setNodesAbsent(
  oarnodesetting: string,
  target: { nodes: readonly string[]; resources?: readonly number[] },
  opts: { timeoutMs: number; signal: AbortSignal },
): Promise<NodesStateResult & { by: 'resources' | 'hosts' }> {
  if (target.resources && target.resources.length > 0) {
    const argv = [
      oarnodesetting,
      '-n',
      '-s',
      'Absent',
      ...target.resources.flatMap((r) => ['-r', String(r)]),
    ];
    const r = await run(argv, opts);
    if (r.ok) return { ...r, by: 'resources' };
  }
  const argv = [oarnodesetting, '-n', '-s', 'Absent', ...target.nodes.flatMap((n) => ['-h', n])];
  return { ...(await run(argv, opts)), by: 'hosts' };
}

async function run(
  argv: string[],
  opts: { timeoutMs: number; signal: AbortSignal },
): Promise<NodesStateResult> {
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
