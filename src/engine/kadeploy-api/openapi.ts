import swagger from '@fastify/swagger';
import Fastify from 'fastify';
import type { KadeployApiConfig } from '../../common/site-config.js';
import type { EngineContext } from '../server/context.js';
import { registerKadeployRoutes } from './app.js';
import { KADEPLOY_API_VERSION } from './routes-info.js';

/** The path root the document shows the listener under (a site sets its own: `kadeploy_api.prefix`). */
const DOC_PREFIX = '/kadeploy';

/** What each route is, in Kadeploy's words (doc/api of Kadeploy 3.3); the routes carry no prose. */
const SUMMARIES: Record<string, string> = {
  'get /version': 'The version (text/plain), no credentials needed',
  'get /auth_headers_prefix': 'The identity header prefix (text/plain), no credentials needed',
  'get /info': 'pxe, automata per cluster, supported_fs, vars',
  'get /clusters': 'The cluster names',
  'get /nodes':
    'kanodes3 status per node {state, user, environment {name, version, user}}: nodes; with list, the names only',
  'get /nodes/{node}': 'One node’s status (404 for an unknown node)',
  'post /console':
    'Open a console: node; answers wid and resources {resource, error, console: tcp://host:port}',
  'get /console': 'The caller’s consoles: id, user, node, error, attached, console_uri, time',
  'get /console/{wid}': 'A console: id, user, node, error, attached, console_uri, time',
  'get /console/{wid}/error': 'Why the console closed (text/plain), empty while it is open',
  'delete /console/{wid}': 'Close the console and its channel; answers {wid}',
  'post /deployment':
    'Start a deployment: nodes, environment {kind: database|anonymous, user, name, version | description keys}, ssh_authorized_keys, client, block_device, deploy_partition, timeout_reboot_classical, timeout_reboot_kexec, disable_kexec, disable_bootloader_install, disable_disk_partitioning, reformat_tmp_partition, automata, breakpoint, force, verbose_level, debug. Refused up front: custom_operations (8), vlan (9), pxe, boot_partition, hook, dry_run (4)',
  'post /reboot':
    'Start a reboot: nodes, kind (simple, set_pxe, deploy_env, recorded_env), level, environment, deploy_partition, ssh_authorized_keys, client, pxe {profile}, check_destructive, timeout_reboot_classical, force, verbose_level, debug',
  'put /power': 'Start a power operation: nodes, status (on, off), level, force, verbose_level, debug',
  'get /power': 'With nodes: start a power status operation; without: the running power operations',
  'get /environments': 'Environments: last, username, name, version',
  'post /environments': 'Add the environment hash (its local files fetched from client)',
  'get /stats':
    'Statistics: kind (all, failure_rates), fields and sort (repeated), nodes, date_min, date_max (RFC 2616), wid, min_retries, step_retries, min_failure_rate (0..1); rows as text/csv, rates as {node: 0..1}',
  'get /rights': 'Rights as {user: {node: [partitions]}}: own, or anyone’s for admins',
  'post /rights': 'Grant (admins): username, nodes, partitions, overwrite',
};

const WORKFLOW: Record<string, string> = {
  'get /{base}': 'The caller’s operations as workflow resources',
  'get /{base}/{wid}':
    'The workflow: wid, user, done, error, logs, environment, nodes {ok, ko, processing}, time',
  'get /{base}/{wid}/state': 'Each node’s macro, micro, state, error',
  'get /{base}/{wid}/status': 'Where the nodes are, per cluster, macro- and micro-step, while it runs',
  'get /{base}/{wid}/error': 'The error of an operation that failed as a whole (400 with its code)',
  'get /{base}/{wid}/logs': 'The log lines not read yet (text/plain, `time|line`), consumed on read',
  'get /{base}/{wid}/logs/{cluster}': 'The same, for a cluster',
  'get /{base}/{wid}/debugs': 'The per-node debug lines not read yet (debug asked), consumed on read',
  'get /{base}/{wid}/debugs/{node}': 'The same, for a node',
  'delete /{base}/{wid}': 'Cancel it when it runs; Kadeploy’s view of it is gone',
};

function summaryOf(method: string, url: string): string | undefined {
  const key = `${method} ${url}`;
  if (SUMMARIES[key]) return SUMMARIES[key];
  const m = /^\/(deployment|reboot|power)(\/.*)?$/.exec(url);
  if (m) return WORKFLOW[`${method} /{base}${m[2] ?? ''}`];
  if (url.startsWith('/environments/'))
    return `${method.toUpperCase()} one user’s environments (Kadeploy’s /environments/:user/:name/:version)`;
  if (url.startsWith('/rights/'))
    return method === 'delete' ? 'Revoke (admins)' : 'Rights of a user (and nodes)';
  if (url.startsWith('/stats/')) return 'Statistics of one operation kind (the parameters of GET /stats)';
  return undefined;
}

/** A context that fails loudly if a route touched it while being registered (documentation only). */
const NO_CONTEXT = new Proxy({} as EngineContext, {
  get(_t, key) {
    throw new Error(`the Kadeploy API routes read ctx.${String(key)} at registration`);
  },
});

const DOC_API: KadeployApiConfig = {
  enabled: true,
  host: '127.0.0.1',
  port: 25301,
  prefix: DOC_PREFIX,
  trustedProxies: [],
  headerPrefix: 'X-Kadeploy-',
};

/**
 * The Kadeploy-compatible listener described from its own routes (the same registration as
 * app.ts, on an app that never listens), for the `x-kadeploy-api` part of the engine's OpenAPI
 * document: the listener is another server (its own port), so its paths cannot be the engine's.
 */
export function kadeployOpenApi(): Promise<Record<string, unknown>> {
  // The same for every engine of the process: described once.
  described ??= describe();
  return described;
}

let described: Promise<Record<string, unknown>> | undefined;

/** Describing the routes registers them only: no handler runs, so no service is ever asked for. */
const NO_SERVICES = (): never => {
  throw new Error('the OpenAPI description has no engine services');
};

async function describe(): Promise<Record<string, unknown>> {
  const app = Fastify({ logger: false, routerOptions: { ignoreTrailingSlash: true } });
  try {
    await app.register(swagger, {
      openapi: { openapi: '3.1.0', info: { title: 'kadeploy', version: KADEPLOY_API_VERSION } },
    });
    await app.register(async (scoped) => registerKadeployRoutes(scoped, NO_CONTEXT, DOC_API, NO_SERVICES), {
      prefix: DOC_PREFIX,
    });
    await app.ready();
    const paths = (
      app.swagger() as unknown as { paths: Record<string, Record<string, Record<string, unknown>>> }
    ).paths;
    for (const [url, ops] of Object.entries(paths))
      for (const [method, op] of Object.entries(ops)) {
        const summary = summaryOf(method, url.slice(DOC_PREFIX.length) || '/');
        if (summary) op.summary = summary;
        if (/\/(version|auth_headers_prefix)$/.test(url)) op.security = [];
      }
    return {
      description:
        'Kadeploy 3.3’s REST API over the engine’s services (docs/kadeploy-api.md), served on its own port when the site configuration enables kadeploy_api; shown here under the path root /kadeploy (kadeploy_api.prefix, empty by default). Success is 200; a refusal is 400 with X-Application-Error-Code (Kadeploy’s number) and X-Application-Error-Info (the message, base64), the message as the text/plain body; 401 authentication, 404 unknown resource.',
      version: KADEPLOY_API_VERSION,
      servers: [
        {
          url: 'http://{host}:{port}',
          variables: { host: { default: '127.0.0.1' }, port: { default: '25301' } },
        },
      ],
      securitySchemes: {
        basic: {
          type: 'http',
          scheme: 'basic',
          description: 'user:secret, the secret being the user’s kaploy token',
        },
        proxy: {
          type: 'apiKey',
          in: 'header',
          name: 'X-Kadeploy-User',
          description:
            'the user, named by a trusted proxy (kadeploy_api.trusted_proxies); the prefix is kadeploy_api.header_prefix',
        },
      },
      security: [{ basic: [] }, { proxy: [] }],
      paths,
    };
  } finally {
    await app.close();
  }
}
