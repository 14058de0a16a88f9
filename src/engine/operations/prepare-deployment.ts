import type { DeployRequest } from '../../api/deploy-request.js';
import { KaployError } from '../../common/errors.js';
import { type ClusterConfig, clusterOf, type NodeConfig, nodeIndex } from '../../common/site-config.js';
import type { Environment } from '../../formats/environment/types.js';
import { parseAutomata, parseForceSteps } from '../../formats/force-steps.js';
import type { AuthenticatedUser } from '../auth/authenticate.js';
import type { OnDownloadProgress } from '../environments/download-progress.js';
import { findEnvironment, prepareEnvironment } from '../environments/environment-service.js';
import { resolveEnvironmentFiles } from '../environments/resolve-image.js';
import { checkRights } from '../rights/check.js';
import type { EngineContext } from '../server/context.js';
import { withStatus } from '../server/http-errors.js';
import type { EnvironmentSpec } from '../steps/deployment-spec.js';
import { parseBreakpoint } from '../workflow/breakpoint.js';
import { plannedSteps } from '../workflow/micro-steps.js';
import { resolvePlan } from '../workflow/resolve-plan.js';
import { evalTimeout } from '../workflow/timeout-expr.js';
import type { WorkflowPlan } from '../workflow/types.js';
import type { WorkflowOptions } from '../workflow/workflow-options.js';
import type { Preparation } from './operation-service.js';

/** One cluster's share of a deployment: its nodes, plan and workflow options. */
export interface ClusterPart {
  cluster: ClusterConfig;
  nodes: NodeConfig[];
  plan: WorkflowPlan;
  options: WorkflowOptions;
}

export interface PreparedDeployment {
  user: string;
  request: DeployRequest;
  env: Environment;
  envSpec: EnvironmentSpec;
  anonymous: boolean;
  parts: ClusterPart[];
  /** Nodes left out because they are busy (without --force). */
  discarded: string[];
  warnings: string[];
  /** What the checks did that the user waits on: image download progress (bytes, rate). */
  notes: string[];
}

/** Download progress lines kept for the deployment log: enough to show it moving, bounded. */
const MAX_PROGRESS_NOTES = 20;

/**
 * A download still running after this long answers the request with the deployment's id, so the
 * user follows its progress (docs/decisions/0027-live-preparation.md); a shorter one (and so a
 * refusal found at once: 404, checksum of a small file) is answered as before, 4xx included.
 */
const DETACH_AFTER_MS = 1_000;

/** Nodes whose last operation is still running (Kadeploy: state *ing, younger than 900 s). */
const BUSY_WINDOW_MS = 900_000;

/**
 * Everything checked before any node is touched: known nodes, rights on the deploy partition, the
 * environment (visible to the caller), its files and their checksums, the workflow plan, the
 * breakpoint. Throws a KaployError for the first problem; on success nothing has changed yet.
 */
export async function prepareDeployment(
  ctx: EngineContext,
  caller: AuthenticatedUser,
  req: DeployRequest,
  signal?: AbortSignal,
  prep?: Preparation,
): Promise<PreparedDeployment> {
  const index = nodeIndex(ctx.config);
  const unknown = req.nodes.filter((n) => !index.has(n));
  if (unknown.length > 0) {
    throw withStatus(
      new KaployError(
        'KAPLOY_NODE_LIST',
        `unknown node(s) on site ${ctx.config.site}: ${unknown.join(', ')}`,
        { node: unknown[0] },
      ),
      404,
    );
  }
  const nodes = [...new Set(req.nodes)].map((n) => index.get(n) as NodeConfig);

  // Rights first: a user without rights learns nothing about environments or files.
  const denied = new Set<string>();
  // Site admins (the OAR hooks' restore, site staff) deploy on every node, as Kadeploy's admins do.
  for (const n of caller.admin ? [] : nodes) {
    const c = clusterOf(ctx.config, n.cluster);
    const part = req.partition ?? c.partitioning.deploy;
    const dev = `${req.blockDevice ?? c.partitioning.blockDevice}${part}`;
    const ok =
      checkRights(ctx.store, caller.name, [n.name], dev).allowed.length > 0 ||
      checkRights(ctx.store, caller.name, [n.name], String(part)).allowed.length > 0;
    if (!ok) denied.add(n.name);
  }
  if (denied.size > 0) {
    throw withStatus(
      new KaployError(
        'KAPLOY_RIGHTS',
        `You do not have the right to deploy on the node(s) ${[...denied].join(', ')} (deploy partition); nothing was done`,
        {
          node: [...denied][0],
        },
      ),
      403,
    );
  }

  // kaploy has no VLAN switch driver: refused here, before any node is touched, rather than every
  // node failing at set_vlan after its reboot (and being retried).
  if (req.vlan !== undefined) {
    throw withStatus(
      new KaployError(
        'KAPLOY_VLAN',
        `--vlan ${req.vlan}: no VLAN driver is configured on site ${ctx.config.site}; nothing was done`,
      ),
      400,
    );
  }

  const warnings: string[] = [];
  // Image downloads happen here, before any node is touched. With the operation's log open
  // (`prep`) their progress goes there as it happens, and a long one lets the request go; without
  // it (dry run, Kadeploy's API) the lines are kept for the log, the last one (total, rate) always.
  const notes: string[] = [];
  const keepNote: OnDownloadProgress = (line, p) => {
    if (prep) {
      prep.line(3, line);
      if (!p.done && p.elapsedMs >= DETACH_AFTER_MS)
        prep.detach({ nodes: nodes.map((n) => n.name), request: req, debug: req.debug === true });
    } else if (p.done || notes.length < MAX_PROGRESS_NOTES - 1) notes.push(line);
  };
  let env: Environment;
  if (req.environment.kind === 'recorded') {
    env = findEnvironment(ctx, caller, {
      name: req.environment.name,
      ...(req.environment.user ? { user: req.environment.user } : {}),
      ...(req.environment.version ? { version: req.environment.version } : {}),
    });
  } else {
    const prepared = await prepareEnvironment(ctx, caller, req.environment, signal, keepNote);
    env = prepared.env;
    warnings.push(...prepared.warnings);
  }
  if (env.image.kind === 'tar' && !env.boot.kernel && env.os === 'linux') {
    throw new KaployError(
      'KAPLOY_ENVIRONMENT',
      `the environment ${env.name} has no kernel (boot.kernel): it cannot boot`,
      { environment: env.name },
    );
  }
  // Checksums are verified here, before any node is touched.
  const files = await resolveEnvironmentFiles(ctx, env, signal, keepNote);
  const envSpec: EnvironmentSpec = {
    name: env.name,
    version: env.version,
    os: env.os,
    image: {
      path: files.image.path,
      kind: env.image.kind,
      compression: env.image.compression,
      md5: files.image.md5,
    },
    ...(env.boot.kernel ? { kernel: env.boot.kernel } : {}),
    ...(env.boot.initrd ? { initrd: env.boot.initrd } : {}),
    ...(env.boot.kernel_params ? { kernelParams: env.boot.kernel_params } : {}),
    ...(env.filesystem ? { filesystem: env.filesystem } : {}),
    ...(env.preinstall && files.preinstall
      ? {
          preinstall: {
            path: files.preinstall.path,
            compression: env.preinstall.compression,
            script: env.preinstall.script,
          },
        }
      : {}),
    postinstalls: env.postinstalls.map((p, i) => ({
      path: (files.postinstalls[i] as { path: string }).path,
      compression: p.compression,
      script: p.script,
    })),
  };

  const busy = new Set<string>();
  if (!req.force) {
    const now = Date.now();
    for (const n of nodes) {
      const row = ctx.store.nodes.get(n.name);
      if (row && /ing$/.test(row.state) && now - row.updated < BUSY_WINDOW_MS) busy.add(n.name);
    }
  }
  const kept = nodes.filter((n) => !busy.has(n.name));
  if (kept.length === 0) {
    throw new KaployError(
      'KAPLOY_NOTHING_MODIFIED',
      `every node is already involved in an operation (use --force): ${[...busy].join(', ')}`,
    );
  }

  const byCluster = new Map<string, NodeConfig[]>();
  for (const n of kept) byCluster.set(n.cluster, [...(byCluster.get(n.cluster) ?? []), n]);
  const parts: ClusterPart[] = [];
  for (const [name, cnodes] of byCluster) {
    const cluster = clusterOf(ctx.config, name);
    const plan = req.forceSteps
      ? parseForceSteps(req.forceSteps)
      : parseAutomata(cluster.automata, `clusters.${name}.automata`);
    const options: WorkflowOptions = {
      ...workflowOptions(env, req, cluster),
      // Used when Kexec falls back to Classical (Kadeploy: the classical reboot timeout).
      rebootClassicalTimeoutSec: evalTimeout(
        req.rebootClassicalTimeout ?? cluster.timeouts.reboot,
        cnodes.length,
      ),
    };
    if (req.breakpoint) parseBreakpoint(req.breakpoint, resolvePlan(plan, options).plan, options);
    parts.push({ cluster, nodes: cnodes, plan, options });
  }
  return {
    user: caller.name,
    request: req,
    env,
    envSpec,
    anonymous: req.environment.kind === 'anonymous',
    parts,
    discarded: [...busy],
    warnings,
    notes,
  };
}

function workflowOptions(env: Environment, req: DeployRequest, c: ClusterConfig): WorkflowOptions {
  return {
    os: env.os,
    imageKind: env.image.kind,
    ...(req.keys ? { key: true } : {}),
    ...(req.disableDiskPartitioning ? { disableDiskPartitioning: true } : {}),
    ...(req.reformatTmp ? { reformatTmp: req.reformatTmp } : {}),
    ...(env.postinstalls.length > 0 ? { userPostinstall: true } : {}),
    ...(c.adminPostinstall ? { adminPostinstall: true } : {}),
    ...(env.preinstall ? { preinstall: true } : {}),
    ...(req.disableBootloaderInstall ? { disableBootloaderInstall: true } : {}),
    ...(req.vlan ? { vlan: req.vlan } : {}),
    ...(req.noKexec ? { noKexec: true } : {}),
    partitions: {
      deploy: req.partition ?? c.partitioning.deploy,
      swap: c.partitioning.swap,
      tmp: c.partitioning.tmp,
    },
  };
}

/** The micro-steps a prepared deployment will run, for --dry-run. */
export function describeSteps(p: PreparedDeployment): string[] {
  const out: string[] = [];
  for (const part of p.parts) {
    const { plan } = resolvePlan(part.plan, part.options);
    for (const s of plannedSteps(plan, part.options)) out.push(`${s.impl}-${s.micro}`);
  }
  return [...new Set(out)];
}
