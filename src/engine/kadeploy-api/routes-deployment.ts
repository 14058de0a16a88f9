import type { FastifyInstance } from 'fastify';
import { DEPLOY_REQUEST_SCHEMA, type DeployRequest, type EnvironmentRef } from '../../api/deploy-request.js';
import { KaployError } from '../../common/errors.js';
import { nodeIndex } from '../../common/site-config.js';
import { MAX_NODES } from '../../formats/node-names.js';
import type { AuthenticatedUser } from '../auth/authenticate.js';
import { findEnvironment } from '../environments/environment-service.js';
import { DEPLOY } from '../operations/deploy-kind.js';
import { planDeployment } from '../operations/deployment.js';
import type { EngineServices } from '../operations/engine-services.js';
import type { EngineContext } from '../server/context.js';
import { requestSignal } from '../server/request-signal.js';
import { checkClient, fetchClientFile, fetchText } from './client-files.js';
import { descriptionOf } from './environment-hash.js';
import {
  assertNative,
  mergedParams,
  operationParams,
  optInt,
  optString,
  type Params,
  refuseGiven,
  refuseUnknown,
  toggle,
} from './params.js';
import { startAnswer, workflowRoutes } from './routes-workflow.js';
import type { KadeployWorkflows, WorkflowEnvironment } from './workflows.js';

/** Every parameter of Kadeploy 3.3's POST /deployment (doc/api deploy.api and workflow.api). */
const KNOWN = [
  'user',
  'nodes',
  'environment',
  'client',
  'ssh_authorized_keys',
  'vlan',
  'pxe',
  'block_device',
  'deploy_partition',
  'boot_partition',
  'timeout_reboot_classical',
  'timeout_reboot_kexec',
  'disable_kexec',
  'disable_bootloader_install',
  'disable_disk_partitioning',
  'reformat_tmp_partition',
  'automata',
  'breakpoint',
  'force',
  'verbose_level',
  'debug',
  'custom_operations',
  'hook',
  'dry_run',
] as const;

/** What kaploy cannot do, refused before anything is touched, with Kadeploy's error code. */
const UNSUPPORTED = {
  custom_operations: ['KAPLOY_CUSTOM_OP', 'custom operations are not supported by kaploy'],
  vlan: ['KAPLOY_VLAN', 'no VLAN driver is configured on this site'],
  pxe: ['KAPLOY_OPTION', 'custom PXE profiles at deployment are not supported (kareboot3 -r set_pxe is)'],
  boot_partition: ['KAPLOY_OPTION', 'booting another partition than the deployed one is not supported'],
  hook: ['KAPLOY_OPTION', 'end-of-deployment hooks are not supported'],
  dry_run: [
    'KAPLOY_OPTION',
    'dry runs are not offered by this listener (POST /deployment?dry_run=true on the engine API is)',
  ],
} as const;

const MAX_KEYS_BYTES = 1_000_000;

/** `automata: {Macro: [{name, retries, timeout}]}` in kaploy's --force-steps syntax. */
function forceSteps(automata: unknown): string {
  if (!automata || typeof automata !== 'object' || Array.isArray(automata))
    throw new KaployError('KAPLOY_OPTION', 'invalid request: automata must be a hash of macro-steps');
  const parts = Object.entries(automata as Record<string, unknown>).map(([macro, impls]) => {
    if (!Array.isArray(impls) || impls.length === 0)
      throw new KaployError(
        'KAPLOY_OPTION',
        `invalid request: automata.${macro} must be a list of {name, retries, timeout}`,
      );
    const list = impls.map((i: Params) => {
      if (!i || typeof i.name !== 'string')
        throw new KaployError('KAPLOY_OPTION', `invalid request: automata.${macro}: each step needs a name`);
      return `${i.name}:${optInt(i, 'retries') ?? 0}:${optInt(i, 'timeout') ?? 0}`;
    });
    return `${macro}|${list.join(',')}`;
  });
  return parts.join('&');
}

interface Translated {
  request: DeployRequest;
  verbosity: number;
  environment: WorkflowEnvironment;
}

/** Kadeploy's deployment parameters as kaploy's DeployRequest, checked like the native route's body. */
async function translate(
  ctx: EngineContext,
  caller: AuthenticatedUser,
  p: Params,
  signal: AbortSignal,
): Promise<Translated> {
  refuseUnknown(p, KNOWN);
  refuseGiven(p, UNSUPPORTED);
  const { nodes, verbosity } = operationParams(caller, p, MAX_NODES);
  const env = p.environment as Params | undefined;
  if (!env || typeof env !== 'object' || Array.isArray(env))
    throw new KaployError('KAPLOY_ENVIRONMENT', 'Invalid environment specification: environment is missing');
  const client = checkClient(optString(p, 'client', 1024));
  const kind = env.kind ?? 'database';
  let environment: EnvironmentRef;
  let shown: WorkflowEnvironment;
  if (kind === 'database') {
    const name = optString(env, 'name', 200);
    if (!name)
      throw new KaployError('KAPLOY_ENVIRONMENT', 'Invalid environment specification: name is missing');
    const user = optString(env, 'user', 64);
    const version = optInt(env, 'version');
    environment = {
      kind: 'recorded',
      name,
      ...(user ? { user } : {}),
      ...(version !== undefined ? { version } : {}),
    };
    // The one the deployment resolves too (same rule), for the workflow's environment line.
    const found = findEnvironment(ctx, caller, {
      name,
      ...(user ? { user } : {}),
      ...(version !== undefined ? { version } : {}),
    });
    shown = { id: found.id, user: found.user, name: found.name, version: found.version };
  } else if (kind === 'anonymous') {
    const { description, uploads } = await descriptionOf(env, {
      client,
      fetch: (ref) =>
        fetchClientFile(ctx.files, ctx.store.uploads, caller.name, client as string, ref, signal),
    });
    environment = { kind: 'anonymous', description, file: 'environment', uploads };
    shown = { id: -1, user: caller.name, name: String(env.name ?? ''), version: optInt(env, 'version') ?? 0 };
  } else {
    throw new KaployError(
      'KAPLOY_ENVIRONMENT',
      `Invalid environment specification: kind must be database or anonymous`,
    );
  }
  const keysRef = optString(p, 'ssh_authorized_keys');
  const blockDevice = optString(p, 'block_device', 200);
  const partition = optInt(p, 'deploy_partition');
  const classical = optString(p, 'timeout_reboot_classical', 200);
  const kexec = optString(p, 'timeout_reboot_kexec', 200);
  const reformat = optString(p, 'reformat_tmp_partition', 16);
  const breakpoint = optString(p, 'breakpoint', 200);
  const request: DeployRequest = {
    nodes,
    environment,
    ...(keysRef ? { keys: await fetchText(ctx.files, keysRef, client, MAX_KEYS_BYTES, signal) } : {}),
    ...(partition !== undefined ? { partition } : {}),
    ...(blockDevice ? { blockDevice } : {}),
    ...(p.automata !== undefined ? { forceSteps: forceSteps(p.automata) } : {}),
    ...(breakpoint ? { breakpoint } : {}),
    ...(classical ? { rebootClassicalTimeout: classical } : {}),
    ...(kexec ? { rebootKexecTimeout: kexec } : {}),
    ...(toggle(p, 'disable_kexec') ? { noKexec: true } : {}),
    ...(toggle(p, 'disable_bootloader_install') ? { disableBootloaderInstall: true } : {}),
    ...(toggle(p, 'disable_disk_partitioning') ? { disableDiskPartitioning: true } : {}),
    ...(reformat ? { reformatTmp: reformat } : {}),
    ...(toggle(p, 'force') ? { force: true } : {}),
    ...(toggle(p, 'debug') ? { debug: true } : {}),
  };
  return { request: assertNative(DEPLOY_REQUEST_SCHEMA, request), verbosity, environment: shown };
}

/** The clusters of some nodes, in the site's order (the `logs` resources of the answer). */
export function clustersOf(ctx: EngineContext, nodes: readonly string[]): string[] {
  const index = nodeIndex(ctx.config);
  return [...new Set(nodes.map((n) => index.get(n)?.cluster).filter((c): c is string => c !== undefined))];
}

/** POST /deployment and its workflow resources; each start is an ordinary kaploy deployment. */
export function deploymentRoutes(
  app: FastifyInstance,
  ctx: EngineContext,
  wf: KadeployWorkflows,
  prefix: string,
  s: () => EngineServices,
): void {
  app.post('/deployment', async (request, reply) => {
    const signal = requestSignal(ctx, reply);
    const t = await translate(ctx, request.user, mergedParams(request.query, request.body), signal);
    const plan = await planDeployment(ctx, s().deps, request.user, t.request, signal);
    const wid = s().operations.launch(plan);
    wf.started(wid, t.verbosity, t.environment);
    return startAnswer(prefix, '/deployment', wid, clustersOf(ctx, plan.nodes), t.request.debug === true);
  });
  workflowRoutes(app, wf, DEPLOY, '/deployment', { list: true });
}
