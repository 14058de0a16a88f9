import { writeFileSync } from 'node:fs';
import type { OperationOutcome } from '../../api/operation-status.js';
import type { PowerRequest } from '../../api/power-request.js';
import type { RebootRequest } from '../../api/reboot-request.js';
import { KaployError } from '../../common/errors.js';
import { follow, type Io } from '../deploy/follow.js';
import { appendNodeFiles, checkNodeFiles } from '../deploy/node-files.js';
import { renderSummary } from '../deploy/summary.js';
import type { ApiClient } from '../http-client.js';

export interface NodeOpClientOptions {
  verbose: number;
  outputOk?: string;
  outputKo?: string;
  writeWorkflowId?: string;
  pollIntervalMs?: number;
}

export interface NodeOpResult {
  wid: string;
  outcomes: OperationOutcome[];
}

/** kareboot3 as a library: starts the reboot, streams its log, prints the summary, writes -o/-n. */
export async function runKareboot(
  client: ApiClient,
  req: RebootRequest,
  o: NodeOpClientOptions,
  io: Io,
  signal: AbortSignal,
): Promise<NodeOpResult> {
  checkNodeFiles(o);
  const { wid } = await client.request<{ wid: string }>('POST', '/reboot', { body: req, signal });
  return followOperation(client, wid, 'reboot', o, io, signal);
}

/** kapower3 as a library; --status prints `node: state` lines instead of a summary of OK nodes. */
export async function runKapower(
  client: ApiClient,
  req: PowerRequest,
  o: NodeOpClientOptions,
  io: Io,
  signal: AbortSignal,
): Promise<NodeOpResult> {
  checkNodeFiles(o);
  const { wid } = await client.request<{ wid: string }>('PUT', '/power', { body: req, signal });
  return followOperation(client, wid, req.action === 'status' ? 'status' : 'power operation', o, io, signal);
}

async function followOperation(
  client: ApiClient,
  wid: string,
  what: string,
  o: NodeOpClientOptions,
  io: Io,
  signal: AbortSignal,
): Promise<NodeOpResult> {
  if (o.writeWorkflowId) writeFileSync(o.writeWorkflowId, `${wid}\n`);
  const status = await follow(client, wid, o, io, signal);
  const outcomes = status.outcomes ?? [];
  reportNodeOp(what, outcomes, o, io);
  if (status.error) throw new KaployError(status.error.code as never, status.error.message);
  return { wid, outcomes };
}

/**
 * The end of a reboot or power operation, on one site or over every site (-M): the summary, or for
 * --status a `node: state` line per node that answered and the summary of the others; then -o/-n.
 */
export function reportNodeOp(
  what: string,
  outcomes: readonly OperationOutcome[],
  o: NodeOpClientOptions,
  io: Io,
): void {
  if (what === 'status') {
    const byName = [...outcomes].sort((a, b) => a.node.localeCompare(b.node, 'en', { numeric: true }));
    io.out.write(
      byName
        .filter((x) => x.status === 'ok')
        .map((x) => `${x.node}: ${x.output ?? ''}\n`)
        .join(''),
    );
    io.out.write(
      renderSummary(
        outcomes.filter((x) => x.status !== 'ok'),
        'power status',
      ),
    );
  } else {
    io.out.write(renderSummary(outcomes, what));
  }
  appendNodeFiles({ ...o, warn: (m) => io.err.write(`warning: ${m}\n`) }, outcomes);
}
