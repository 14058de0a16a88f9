import { writeFileSync } from 'node:fs';
import type { DeployRequest } from '../../api/deploy-request.js';
import { errorMessage } from '../../common/errors.js';
import { type ApiClient, ServerSilentError } from '../http-client.js';
import type { Io } from './follow.js';
import type { DeployRunOptions } from './run-options.js';

/** --dry-run: the engine checks everything and answers what it would do; nothing is touched. */
export async function dryRun(
  client: ApiClient,
  body: DeployRequest,
  io: Io,
  signal: AbortSignal,
): Promise<void> {
  const plan = await client.request<{
    environment: string;
    description: string;
    nodes: string[];
    steps: string[];
  }>('POST', '/deployment', { body, query: { dry_run: true }, signal });
  io.out.write(`Dry run: deployment of ${plan.environment} on ${plan.nodes.length} node(s)\n`);
  io.out.write(plan.description.endsWith('\n') ? plan.description : `${plan.description}\n`);
  io.out.write(`Steps: ${plan.steps.join(' ')}\n`);
}

/** The deployment runs already: a file that cannot be written is a warning, not a reason to stop following it. */
export function writeWid(file: string, wid: string, o: DeployRunOptions): void {
  try {
    writeFileSync(file, `${wid}\n`);
  } catch (e) {
    o.warn?.(`cannot write the workflow id ${wid} to ${file}: ${errorMessage(e)}`);
  }
}

/** A start request the engine stopped answering may have started the deployment: its nodes are lost, not unreachable. */
export function stageOf(e: unknown): 'unreachable' | 'refused' | 'lost' {
  if (e instanceof ServerSilentError) return 'lost';
  return (e as { code?: unknown }).code === 'KAPLOY_CLIENT' ? 'unreachable' : 'refused';
}
