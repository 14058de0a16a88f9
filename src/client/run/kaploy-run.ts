import type { OperationOutcome } from '../../api/operation-status.js';
import type { Io } from '../deploy/follow.js';
import { createClient } from '../http-client.js';
import { alreadyDeployed } from './already-deployed.js';
import { deployWithRetries } from './deploy-attempts.js';
import { type ExperimentEnd, runExperiment } from './experiment.js';
import { checkKaployRunOptions, type KaployRunOptions, requiredNodes } from './run-options.js';

/** How a `kaploy run` ended, as a value: the CLI maps it to an exit code. */
export type KaployRunEnd =
  | { kind: 'too-few'; deployed: string[]; required: number; ko: OperationOutcome[] }
  | { kind: 'ran'; deployed: string[]; skipped: string[]; ko: OperationOutcome[]; experiment: ExperimentEnd }
  | { kind: 'cancelled'; deployed: string[] };

/**
 * `kaploy run` as a library (what katapult did, and what execo's deploy() and EnOSlib do client
 * side): skip the nodes already running the environment, deploy the others, redeploy the KO ones
 * up to `retries` times, refuse to go on with fewer than the required nodes, then run the
 * experiment on the deployed nodes. Progress goes to `io.err`, deployment logs and summaries to
 * `io.out`, as kadeploy3's do.
 */
export async function kaployRun(o: KaployRunOptions, io: Io, signal: AbortSignal): Promise<KaployRunEnd> {
  checkKaployRunOptions(o);
  const say = (m: string) => io.err.write(`kaploy run: ${m}\n`);
  const client = () => createClient(o.deploy.server ? { server: o.deploy.server } : {});
  const asked = o.deploy.nodes;
  let skipped: string[] = [];
  const env = o.deploy.environment;
  if (o.skipDeployed && env.kind === 'recorded') {
    const c = client();
    try {
      const found = await alreadyDeployed(c, env, asked, signal);
      skipped = found.nodes;
      if (skipped.length > 0)
        say(
          `${skipped.length} of ${asked.length} node(s) already run ${found.environment}: not deployed again (--no-skip-deployed to redeploy them)`,
        );
    } finally {
      await c.close();
    }
  }
  const skip = new Set(skipped);
  const toDeploy = asked.filter((n) => !skip.has(n));
  const attempts =
    toDeploy.length === 0
      ? { ok: [], ko: [], attempts: 0 }
      : await deployWithRetries({ ...o.deploy, wait: true, dryRun: false }, toDeploy, o.retries, io, signal);
  const okSet = new Set([...skipped, ...attempts.ok]);
  // The order of the node file, as the user gave it.
  const deployed = asked.filter((n) => okSet.has(n));
  if (signal.aborted) return { kind: 'cancelled', deployed };
  const required = requiredNodes(o, asked.length);
  if (deployed.length < required) {
    say(
      `${deployed.length} of ${asked.length} node(s) deployed after ${attempts.attempts} deployment(s), ${required} required: ${o.command[0]} not run`,
    );
    return { kind: 'too-few', deployed, required, ko: attempts.ko };
  }
  say(
    `${deployed.length} of ${asked.length} node(s) deployed (${skipped.length} already, ${attempts.attempts} deployment(s)); running ${o.command.join(' ')} with KAPLOY_NODES_FILE=${o.nodesFile}`,
  );
  const experiment = await runExperiment(o.command, deployed, o.nodesFile, signal);
  if (experiment.signal) say(`${o.command[0]} was killed by ${experiment.signal}`);
  else if (experiment.code !== 0) say(`${o.command[0]} exited with ${experiment.code}`);
  return { kind: 'ran', deployed, skipped, ko: attempts.ko, experiment };
}
