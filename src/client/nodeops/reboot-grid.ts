import type { OperationOutcome } from '../../api/operation-status.js';
import type { PowerRequest } from '../../api/power-request.js';
import type { RebootRequest } from '../../api/reboot-request.js';
import { KaployError } from '../../common/errors.js';
import type { Io } from '../deploy/follow.js';
import { follow } from '../deploy/follow.js';
import { formatErrorLine } from '../deploy/format-error.js';
import { checkNodeFiles } from '../deploy/node-files.js';
import { fanOut, type SiteRun } from '../grid/fan-out.js';
import { gridPlan } from '../grid/grid-plan.js';
import { mergedOutcomes, requireSomeSite } from '../grid/grid-result.js';
import type { GridServer } from '../grid/grid-servers.js';
import { type NodeOpClientOptions, reportNodeOp } from './reboot.js';

/** A reboot or power operation as -M runs it: its request without the nodes, which each site gets its own of. */
export type GridNodeOp =
  | { kind: 'reboot'; request: RebootRequest }
  | { kind: 'power'; request: PowerRequest };

export interface GridNodeOpResult {
  sites: SiteRun<OperationOutcome[]>[];
  /** Every node of every site (a failed site's nodes KO, `Server-...`). */
  outcomes: OperationOutcome[];
}

/**
 * kareboot3 -M / kapower3 -M: each node to the site serving it (gridPlan), one operation per site
 * through the grid fan-out (prefixed logs, a progress line on a terminal), then once over every
 * site: the summary (or the power status lines), the -o/-n files. A site that fails, refuses or
 * stops answering makes its own nodes KO; the run throws only when no site started anything.
 */
export async function runNodeOpGrid(
  servers: readonly GridServer[],
  op: GridNodeOp,
  o: NodeOpClientOptions & { warn?: (message: string) => void },
  io: Io,
  signal: AbortSignal,
): Promise<GridNodeOpResult> {
  checkNodeFiles(o);
  if (o.writeWorkflowId) {
    throw new KaployError(
      'KAPLOY_CONFLICTING_OPTIONS',
      '-M/--multi-server cannot be used with --write-workflow-id (one operation per site)',
    );
  }
  const plan = await gridPlan(servers, signal, {
    nodes: op.request.nodes,
    ...(o.warn ? { warn: o.warn } : {}),
  });
  try {
    const sites = await fanOut(plan, { io, signal, progress: true }, async (site) => {
      const body = { ...op.request, nodes: site.nodes };
      // Without the signal, as kadeploy3 -M: a request cut in flight could leave an operation
      // nobody follows; once it answers, follow() sees the abort and cancels it.
      const { wid } =
        op.kind === 'reboot'
          ? await site.client.request<{ wid: string }>('POST', '/reboot', { body })
          : await site.client.request<{ wid: string }>('PUT', '/power', { body });
      site.started(wid);
      const status = await follow(
        site.client,
        wid,
        {
          verbose: o.verbose,
          ...(o.pollIntervalMs ? { pollIntervalMs: o.pollIntervalMs } : {}),
          ...(site.onStatus ? { onStatus: site.onStatus } : {}),
        },
        site.io,
        site.signal,
      );
      if (status.error) site.io.err.write(formatErrorLine(status.error));
      return status.outcomes ?? [];
    });
    requireSomeSite(sites, `started the ${op.kind === 'reboot' ? 'reboot' : 'power operation'}`);
    const outcomes = mergedOutcomes(sites, (v) => v);
    reportNodeOp(whatOf(op), outcomes, o, io);
    return { sites, outcomes };
  } finally {
    await plan.close();
  }
}

function whatOf(op: GridNodeOp): string {
  if (op.kind === 'reboot') return 'reboot';
  return op.request.action === 'status' ? 'status' : 'power operation';
}
