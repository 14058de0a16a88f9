import type { DeployRequest } from '../../api/deploy-request.js';
import { KaployError } from '../../common/errors.js';
import type { NodeStepDeps } from '../nodeops/node-step-env.js';
import type { EngineContext } from '../server/context.js';
import { deploymentPlan } from './deployment.js';
import type { Resumer } from './operation-recovery.js';
import { prepareDeployment } from './prepare-deployment.js';
import { recoveredNodes } from './progress-journal.js';

/**
 * Deployments an engine restart interrupted go on (durable workflows, docs/decisions/0033): the
 * stored request is checked again as its owner's (rights, environment, files and checksums) on
 * the nodes still given to it, with the environment it was deploying (the version it resolved to,
 * the image it checked: a newer version or a changed image fails it), and each node goes on after
 * the last micro-step it completed. A queued one (`queued`, decision 0037) is checked again the
 * same way on the nodes its checks kept when its turn comes, and starts from its beginning.
 */
export function deploymentResumer(ctx: EngineContext, deps: NodeStepDeps): Resumer {
  return async (row, signal, queued) => {
    const req = JSON.parse(row.request) as DeployRequest;
    const ours = queued ? [...queued] : req.nodes.filter((n) => ctx.store.nodes.get(n)?.wid === row.wid);
    if (ours.length === 0)
      throw new KaployError('KAPLOY_NOTHING_MODIFIED', 'none of its nodes is left to this deployment');
    const run = ctx.store.progress.run(row.wid);
    const version = Number(run?.env.split(':').at(-1));
    const environment =
      req.environment.kind === 'recorded' && Number.isInteger(version) && version > 0
        ? { ...req.environment, version }
        : req.environment;
    const caller = { name: row.user, admin: ctx.config.admins.includes(row.user) };
    // Its own nodes are `deploying` for it: not busy for it (force).
    const prepared = await prepareDeployment(
      ctx,
      caller,
      { ...req, environment, nodes: ours, force: true },
      signal,
    );
    if (run?.md5 && prepared.envSpec.image.md5 !== run.md5)
      throw new KaployError(
        'KAPLOY_CHECKSUM',
        `the image of ${run.env} changed while the engine was stopped: the deployment cannot go on`,
      );
    // Queued (decision 0037): its nodes' busy state was judged before it waited; its --force (to
    // take them from others) is its request's. It starts from its beginning.
    if (queued) {
      const { force: _force, ...rest } = prepared.request;
      return deploymentPlan(ctx, deps, { ...prepared, request: req.force ? { ...rest, force: true } : rest });
    }
    return deploymentPlan(ctx, deps, prepared, undefined, recoveredNodes(ctx.store.progress.of(row.wid)));
  };
}
