// 10,000 API requests (short: 1,000), 16 at a time, against a virtual site's engine: reads of
// every family (version, clusters, environments, nodes, rights, operations, stats, files, metrics)
// and hostile ones (no token, a forged token, malformed bodies, unknown operations, a node range
// that expands to 10^9 names, an image upload sent as JSON, an unknown field, a huge query). A
// request passes when its status is in the class it should be (2xx, or 4xx for a hostile one);
// a 5xx, an unanswered request or an engine log line of an internal error counts as an internal
// error. Afterwards the engine is the same process and answers.
import pMap from 'p-map';
import { Agent, request } from 'undici';
import { withSite } from '../lib/site.mjs';

const MD5 = 'd41d8cd98f00b204e9800998ecf8427e';

/** [method, path, body or undefined, token ('user' | 'admin' | 'none' | 'forged'), expected class]. */
function catalogue(node) {
  return [
    ['GET', '/version', undefined, 'user', 2],
    ['GET', '/info', undefined, 'user', 2],
    ['GET', '/clusters', undefined, 'user', 2],
    ['GET', '/environments', undefined, 'user', 2],
    ['GET', '/nodes', undefined, 'user', 2],
    ['GET', '/rights', undefined, 'user', 2],
    ['GET', '/deployment', undefined, 'user', 2],
    ['GET', '/reboot', undefined, 'user', 2],
    ['GET', '/stats?limit=10', undefined, 'user', 2],
    ['GET', `/files/${MD5}`, undefined, 'user', 2],
    ['GET', '/metrics', undefined, 'admin', 2],
    ['GET', '/metrics', undefined, 'user', 4],
    ['GET', '/environments', undefined, 'none', 4],
    ['GET', '/deployment', undefined, 'forged', 4],
    ['GET', '/deployment/D-00000000-0000-0000-0000-000000000000', undefined, 'user', 4],
    ['GET', '/deployment/..%2f..%2fetc%2fpasswd', undefined, 'user', 4],
    ['POST', '/deployment', { nodes: [node] }, 'user', 4],
    [
      'POST',
      '/deployment',
      { nodes: ['a;rm -rf /'], environment: { kind: 'recorded', name: 'x' } },
      'user',
      4,
    ],
    [
      'POST',
      '/deployment',
      { nodes: [node], environment: { kind: 'recorded', name: 'x' }, evil: 1 },
      'user',
      4,
    ],
    ['POST', '/deployment', '{"nodes":[', 'user', 4],
    ['POST', '/reboot', { nodes: [node], level: 'nuclear' }, 'user', 4],
    ['GET', '/stats?node=a[1-1000]b[1-1000]c[1-1000]', undefined, 'user', 4],
    ['GET', `/stats?node=${'x'.repeat(20_000)}`, undefined, 'user', 4],
    ['PUT', `/files/${MD5}`, { not: 'bytes' }, 'user', 4],
    ['PUT', '/files/not-an-md5', undefined, 'user', 4],
    ['GET', '/environments/nobody/none', undefined, 'user', 4],
    ['DELETE', '/environments/deploy/tiny-x64-base', undefined, 'user', 4],
    ['POST', '/rights', { user: 'mallory', nodes: [node] }, 'user', 4],
  ];
}

export default {
  name: 'api-requests',
  async run({ short, signal, log }) {
    const total = short ? 1000 : 10_000;
    return withSite({ nodes: 2, site: 'relapi', signal }, async (site) => {
      const pid = site.enginePid();
      const cat = catalogue(site.nodes[0]);
      const tokens = {
        user: site.token(),
        admin: site.token('kaadmin'),
        none: undefined,
        forged: `${site.token().slice(0, -4)}AAAA`,
      };
      const agent = new Agent({ connections: 16 });
      let passed = 0;
      let server5xx = 0;
      let unanswered = 0;
      const wrong = new Map();
      try {
        await pMap(
          Array.from({ length: total }, (_, i) => i),
          async (i) => {
            const [method, p, body, tok, cls] = cat[i % cat.length];
            const headers = {};
            if (tokens[tok]) headers.authorization = `Bearer ${tokens[tok]}`;
            if (body !== undefined) headers['content-type'] = 'application/json';
            let status;
            try {
              const res = await request(`${site.url}${p}`, {
                method,
                headers,
                body: body === undefined ? undefined : typeof body === 'string' ? body : JSON.stringify(body),
                dispatcher: agent,
                // Node answers headers too large (431) by closing the connection: not one to reuse.
                reset: p.length > 8000,
                signal: AbortSignal.any([signal, AbortSignal.timeout(30_000)]),
              });
              await res.body.dump();
              status = res.statusCode;
            } catch (e) {
              if (signal.aborted) throw e;
              unanswered++;
              log(`unanswered: ${method} ${p.slice(0, 60)}: ${e.code ?? ''} ${e.message}`);
              return;
            }
            if (status >= 500) server5xx++;
            if (Math.floor(status / 100) === cls) passed++;
            else
              wrong.set(
                `${method} ${p.slice(0, 60)} -> ${status}`,
                (wrong.get(`${method} ${p.slice(0, 60)} -> ${status}`) ?? 0) + 1,
              );
            if (i % 500 === 0) site.sample();
          },
          { concurrency: 16, signal },
        );
      } finally {
        await agent.close();
      }
      for (const [k, v] of wrong) log(`unexpected: ${k} (${v} times)`);
      const alive = site.enginePid() === pid;
      const version = await site
        .client()
        .request('GET', '/version', { timeoutMs: 10_000 })
        .then(
          () => true,
          () => false,
        );
      return {
        runs: total,
        passed: alive && version ? passed : 0,
        dataLost: 0,
        stuckNodes: 0,
        internalErrors: server5xx + unanswered + site.internalErrors() + (alive ? 0 : 1),
        enginePeakMiB: site.sample(),
        notes: `${cat.length} kinds of request, 16 at a time; ${server5xx} answered 5xx, ${unanswered} unanswered${
          wrong.size ? `; wrong class: ${[...wrong.keys()].slice(0, 3).join(', ')}` : ''
        }`,
      };
    });
  },
};
