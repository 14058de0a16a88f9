import { configuredGridServers } from '../../client/grid/grid-servers.js';
import { createClient } from '../../client/http-client.js';
import { type NodeOpClientOptions, runKapower, runKareboot } from '../../client/nodeops/reboot.js';
import { type GridNodeOp, runNodeOpGrid } from '../../client/nodeops/reboot-grid.js';
import { EXIT, type ExitCode } from './exit-codes.js';
import { refuseWithMultiServer } from './multi-server.js';
import { nodeOpExitCode } from './node-op-exit.js';

/** The options kareboot3 and kapower3 share, as commander parsed them. */
export interface NodeOpCliOptions {
  verboseLevel: number;
  outputOkNodes?: string;
  outputKoNodes?: string;
  writeWorkflowId?: string;
  pollInterval?: number;
  server?: string;
  multiServer?: boolean;
}

/**
 * The run of kareboot3 and kapower3 once their request is built: on one server (-S or the default)
 * or with -M on every configured one, each for its nodes; the exit code from the nodes' outcomes.
 */
export async function runNodeOpCli(
  program: string,
  op: GridNodeOp,
  o: NodeOpCliOptions,
  signal: AbortSignal,
): Promise<ExitCode> {
  const opts: NodeOpClientOptions = {
    verbose: o.verboseLevel,
    ...(o.outputOkNodes ? { outputOk: o.outputOkNodes } : {}),
    ...(o.outputKoNodes ? { outputKo: o.outputKoNodes } : {}),
    ...(o.writeWorkflowId ? { writeWorkflowId: o.writeWorkflowId } : {}),
    ...(o.pollInterval ? { pollIntervalMs: o.pollInterval } : {}),
  };
  const io = { out: process.stdout, err: process.stderr };
  refuseWithMultiServer(o.multiServer, { '-S': o.server, '--write-workflow-id': o.writeWorkflowId });
  if (o.multiServer) {
    const warn = (m: string) => process.stderr.write(`${program}: warning: ${m}\n`);
    const res = await runNodeOpGrid(configuredGridServers(), op, { ...opts, warn }, io, signal);
    return signal.aborted ? EXIT.CANCELLED : nodeOpExitCode(res.outcomes.map((x) => x.status));
  }
  const client = createClient({ server: o.server });
  try {
    const res =
      op.kind === 'reboot'
        ? await runKareboot(client, op.request, opts, io, signal)
        : await runKapower(client, op.request, opts, io, signal);
    return signal.aborted ? EXIT.CANCELLED : nodeOpExitCode(res.outcomes.map((x) => x.status));
  } finally {
    await client.close();
  }
}
