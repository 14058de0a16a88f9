import type { FastifyInstance } from 'fastify';
import { POWER_REQUEST_SCHEMA, type PowerRequest } from '../../api/power-request.js';
import { REBOOT_REQUEST_SCHEMA, type RebootRequest } from '../../api/reboot-request.js';
import { KaployError } from '../../common/errors.js';
import type { AuthenticatedUser } from '../auth/authenticate.js';
import type { FileCache } from '../environments/file-cache.js';
import { POWER, REBOOT } from '../nodeops/nodeop-kinds.js';
import { planPower } from '../nodeops/power-service.js';
import { planReboot } from '../nodeops/reboot-service.js';
import type { EngineServices } from '../operations/engine-services.js';
import type { EngineContext } from '../server/context.js';
import { requestSignal } from '../server/request-signal.js';
import { checkClient, fetchText } from './client-files.js';
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
import { clustersOf } from './routes-deployment.js';
import { startAnswer, workflowRoutes } from './routes-workflow.js';
import type { KadeployWorkflows } from './workflows.js';

const GENERIC = [
  'user',
  'nodes',
  'force',
  'verbose_level',
  'debug',
  'breakpoint',
  'custom_operations',
  'hook',
  'dry_run',
];
const UNSUPPORTED = {
  custom_operations: ['KAPLOY_CUSTOM_OP', 'custom operations are not supported by kaploy'],
  hook: ['KAPLOY_OPTION', 'end-of-operation hooks are not supported'],
  dry_run: ['KAPLOY_OPTION', 'dry runs are not offered for this operation'],
  breakpoint: ['KAPLOY_OPTION', 'breakpoints are only offered for deployments'],
  vlan: ['KAPLOY_VLAN', 'no VLAN driver is configured on this site'],
  pxe: [
    'KAPLOY_OPTION',
    'give the PXE profile as kareboot3 -w does: pxe.profile only, without files or singularities',
  ],
} as const;

/** Kadeploy's reboot parameters as kaploy's RebootRequest. */
async function rebootRequest(files: FileCache, caller: AuthenticatedUser, p: Params, signal: AbortSignal) {
  refuseUnknown(p, [
    ...GENERIC,
    'kind',
    'level',
    'environment',
    'deploy_partition',
    'block_device',
    'ssh_authorized_keys',
    'client',
    'pxe',
    'check_destructive',
    'timeout_reboot_classical',
    'vlan',
  ]);
  const pxe = p.pxe as Params | undefined;
  const profileOnly = pxe && typeof pxe === 'object' && Object.keys(pxe).every((k) => k === 'profile');
  refuseGiven(profileOnly ? { ...p, pxe: undefined } : p, UNSUPPORTED);
  const { nodes, verbosity } = operationParams(caller, p, 10_000);
  const client = checkClient(optString(p, 'client', 1024));
  const env = p.environment as Params | undefined;
  const keysRef = optString(p, 'ssh_authorized_keys');
  const partition = optInt(p, 'deploy_partition');
  const level = optString(p, 'level', 16);
  const timeout = optString(p, 'timeout_reboot_classical', 200);
  const version = env ? optInt(env, 'version') : undefined;
  const req = {
    kind: optString(p, 'kind', 32) ?? 'simple',
    nodes,
    ...(level ? { level } : {}),
    ...(env
      ? {
          environment: {
            name: optString(env, 'name', 200),
            ...(env.user !== undefined ? { user: optString(env, 'user', 64) } : {}),
            ...(version !== undefined ? { version } : {}),
          },
        }
      : {}),
    ...(partition !== undefined ? { partition } : {}),
    ...(keysRef ? { keys: await fetchText(files, keysRef, client, 256 * 1024, signal) } : {}),
    ...(profileOnly && pxe ? { pxeProfile: optString(pxe, 'profile', 16 * 1024) } : {}),
    ...(toggle(p, 'check_destructive') ? { checkDestructive: true } : {}),
    ...(timeout ? { rebootClassicalTimeout: timeout } : {}),
    ...(toggle(p, 'force') ? { force: true } : {}),
    ...(toggle(p, 'debug') ? { debug: true } : {}),
  };
  return { request: assertNative(REBOOT_REQUEST_SCHEMA, req as unknown as RebootRequest), verbosity };
}

/** Kadeploy's power parameters (`status: on|off`, or a GET: the status) as kaploy's PowerRequest. */
function powerRequest(caller: AuthenticatedUser, p: Params, action?: 'status') {
  refuseUnknown(p, [...GENERIC, 'status', 'level']);
  refuseGiven(p, UNSUPPORTED);
  const { nodes, verbosity } = operationParams(caller, p, 10_000);
  const level = optString(p, 'level', 16);
  const req = {
    action: action ?? optString(p, 'status', 16),
    nodes,
    ...(level ? { level } : {}),
    ...(toggle(p, 'force') ? { force: true } : {}),
    ...(toggle(p, 'debug') ? { debug: true } : {}),
  };
  if (req.action === undefined)
    throw new KaployError('KAPLOY_MISSING_OPTION', 'status is missing (on or off)');
  return { request: assertNative(POWER_REQUEST_SCHEMA, req as unknown as PowerRequest), verbosity };
}

/**
 * POST /reboot, PUT /power (on, off) and GET /power with nodes (Kadeploy starts a status workflow
 * there; without nodes it lists), and their workflow resources. Each is an ordinary kaploy operation.
 */
export function nodeOpRoutes(
  app: FastifyInstance,
  ctx: EngineContext,
  wf: KadeployWorkflows,
  prefix: string,
  s: () => EngineServices,
): void {
  app.post('/reboot', async (request, reply) => {
    const t = await rebootRequest(
      ctx.files,
      request.user,
      mergedParams(request.query, request.body),
      requestSignal(ctx, reply),
    );
    const plan = planReboot(ctx, s().deps, request.user, t.request);
    const wid = s().operations.launch(plan);
    wf.started(wid, t.verbosity);
    return startAnswer(prefix, '/reboot', wid, clustersOf(ctx, plan.nodes), t.request.debug === true);
  });
  workflowRoutes(app, wf, REBOOT, '/reboot', { list: true });

  const power = (caller: AuthenticatedUser, p: Params, action?: 'status') => {
    const t = powerRequest(caller, p, action);
    const plan = planPower(ctx, s().deps, caller, t.request);
    const wid = s().operations.launch(plan);
    wf.started(wid, t.verbosity);
    return startAnswer(prefix, '/power', wid, clustersOf(ctx, plan.nodes), t.request.debug === true);
  };
  app.put('/power', async (request) => power(request.user, mergedParams(request.query, request.body)));
  app.get('/power', async (request) => {
    const p = mergedParams(request.query, undefined);
    return p.nodes === undefined ? wf.list(request.user, POWER) : power(request.user, p, 'status');
  });
  workflowRoutes(app, wf, POWER, '/power', { list: false });
}
