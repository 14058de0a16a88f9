// HTTP fuzz against a real engine: the main routes' bodies, query strings, paths and headers,
// generated valid then mutated. Contract: never a 5xx, every error is JSON `{error: {code, ...}}`
// with a code other than KAPLOY_INTERNAL, and the engine still answers afterwards. Requests are
// sent one at a time, each under a deadline (the hang guard, not a speed assertion).
import net from 'node:net';
import { recordCase } from './checks.mjs';
import { HOSTILE, mutateMany } from './grammar.mjs';
import { genNodeSpec } from './suites.mjs';

const REQUEST_DEADLINE_MS = 30_000;

const hostName = (rng) => `node-${rng.int(1, 4)}.testsite`;

const DESCRIPTION =
  'name: fuzzenv\nos: linux\nimage: {file: "http://127.0.0.1:9/x.tgz", kind: tar, compression: gzip}\nboot: {kernel: /vmlinuz}\nfilesystem: ext4\n';

/** Valid requests of the main routes (users without rights on nodes: nothing is started). */
const ROUTES = [
  { method: 'POST', path: '/environments', body: () => ({ description: DESCRIPTION, file: 'fuzz.yaml' }) },
  { method: 'POST', path: '/environments/anonymous', body: () => ({ description: DESCRIPTION }) },
  {
    method: 'POST',
    path: '/environments/move-files',
    body: () => ({ moves: [{ from: 'http://a.example/x.tgz', to: 'http://b.example/x.tgz' }] }),
  },
  { method: 'PUT', path: '/environments/alice/fuzzenv', body: () => ({ visibility: 'shared' }) },
  { method: 'DELETE', path: '/environments/alice/fuzzenv?version=1' },
  {
    method: 'POST',
    path: '/deployment',
    body: (rng) => ({
      nodes: [hostName(rng)],
      environment: { kind: 'recorded', name: 'debian', user: 'deploy' },
    }),
  },
  {
    method: 'POST',
    path: '/reboot',
    body: (rng) => ({ kind: 'simple', nodes: [hostName(rng)], level: 'soft' }),
  },
  { method: 'PUT', path: '/power', body: (rng) => ({ action: 'status', nodes: [hostName(rng)] }) },
  { method: 'POST', path: '/console', body: (rng) => ({ node: hostName(rng) }) },
  {
    method: 'POST',
    path: '/rights',
    admin: true,
    body: (rng) => ({ user: 'bob', nodes: [hostName(rng)], partitions: ['*'], overwrite: rng.chance(0.5) }),
  },
  {
    method: 'GET',
    path: '/stats',
    query: (rng) => `?node=${genNodeSpec(rng).text}&from=2011:04:14:08:41:12&limit=5`,
  },
  { method: 'GET', path: '/environments', query: () => '?user=alice&name=fuzz*' },
  { method: 'GET', path: '/nodes', query: () => '?list=true' },
  { method: 'GET', path: '/deployment/D-00000000-0000-0000-0000-000000000000' },
  { method: 'GET', path: '/files/0123456789abcdef0123456789abcdef' },
  { method: 'GET', path: '/rights', query: (rng) => `?node=${hostName(rng)}` },
];

/** Replaces one value somewhere in a JSON document by a hostile one. */
function mutateValue(rng, v, depth = 0) {
  if (depth > 0 && rng.chance(0.3)) {
    return rng.pick([
      () => null,
      () => -1,
      () => 1e308,
      () => 2 ** 64,
      () => true,
      () => '',
      () => rng.pick(HOSTILE),
      () => 'x'.repeat(rng.pick([300, 5000, 300_000])),
      () => [],
      () => ({}),
      () => Array(rng.pick([10, 20_000])).fill('node-1.testsite'),
      () => JSON.parse(`${'['.repeat(2000)}${']'.repeat(2000)}`),
      () => ({ __proto__: { admin: true }, constructor: { prototype: 1 } }),
    ])();
  }
  if (Array.isArray(v))
    return v.length === 0 ? [rng.pick(HOSTILE)] : v.map((x) => mutateValue(rng, x, depth + 1));
  if (v !== null && typeof v === 'object') {
    const out = { ...v };
    const keys = Object.keys(out);
    if (keys.length === 0 || rng.chance(0.2))
      out[rng.pick(['extra', '__proto__', 'constructor', 'nodes', ''])] = 1;
    else {
      const k = rng.pick(keys);
      if (rng.chance(0.2)) delete out[k];
      else out[k] = mutateValue(rng, out[k], depth + 1);
    }
    return out;
  }
  return rng.chance(0.5) ? mutateMany(rng, String(v)) : rng.pick([null, 0, [v], { v }]);
}

const CONTENT_TYPES = [
  'application/json',
  'application/json; charset=utf-8',
  'application/json; charset=latin1',
  'text/plain',
  'application/x-www-form-urlencoded',
  'multipart/form-data; boundary=x',
  'application/octet-stream',
  'application/yaml',
  'application/json\r\nx: y',
  '',
  '*/*',
  'application/jsonx',
];

/** One generated request: valid, with a mutated body, query, path, content type or header. */
function genRequest(rng, tokens) {
  const r = rng.pick(ROUTES);
  const token = r.admin ? tokens.admin : tokens.user;
  const headers = { authorization: `Bearer ${token}` };
  let body = r.body ? JSON.stringify(r.body(rng)) : undefined;
  if (body !== undefined) headers['content-type'] = 'application/json';
  let path = r.path + (r.query ? r.query(rng) : '');
  const what = rng.int(0, 6);
  if (what === 1 && body !== undefined) body = JSON.stringify(mutateValue(rng, JSON.parse(body)));
  else if (what === 2 && body !== undefined) body = mutateMany(rng, body);
  else if (what === 3) path = mutateMany(rng, path).replace(/^([^/])/, '/$1');
  else if (what === 4) {
    const ct = rng.pick(CONTENT_TYPES);
    if (/[\r\n]/.test(ct)) headers['x-fuzz'] = 'y';
    else headers['content-type'] = ct;
    if (body === undefined && rng.chance(0.5)) body = mutateMany(rng, '{"a":1}');
  } else if (what === 5) {
    headers.authorization = rng.pick([
      '',
      'Bearer',
      'Bearer ',
      `Bearer ${token}x`,
      `Basic ${Buffer.from('alice:x').toString('base64')}`,
      `Bearer ${'A'.repeat(8000)}`,
      `bearer ${token}`,
      `Bearer ${token.slice(0, -1)}`,
      `Bearer ${mutateMany(rng, token).replace(/[^\x21-\x7e]/g, '')}`,
    ]);
    if (headers.authorization === '') delete headers.authorization;
  } else if (what === 6) {
    headers[
      rng.pick(['accept', 'accept-encoding', 'x-forwarded-for', 'if-none-match', 'range', 'accept-language'])
    ] = rng.pick(['gzip;q=2', '*/*;q=abc', 'bytes=9-1', '100-continue', 'x'.repeat(4000), '999.999.999.999']);
  }
  // Bodies on GET/DELETE and control characters in the path are what fetch refuses to send;
  // those are the raw-socket cases.
  if ((r.method === 'GET' || r.method === 'DELETE') && body !== undefined) body = undefined;
  path = path.replace(/[\0-\x20\x7f]/g, (c) => encodeURIComponent(c)).replace(/^\/+/, '/');
  return { method: r.method, path, headers, body, mutated: what !== 0 };
}

/** Why an answer breaks the contract, or undefined. */
async function judgeAnswer(res, mutated) {
  const text = await res.text();
  if (res.status >= 500) return `HTTP ${res.status}: ${text.slice(0, 200)}`;
  if (res.status < 400) return mutated || res.status < 300 ? undefined : `HTTP ${res.status}`;
  let doc;
  try {
    doc = JSON.parse(text);
  } catch {
    return `HTTP ${res.status} without a JSON error: ${text.slice(0, 100)}`;
  }
  const code = doc?.error?.code;
  if (typeof code !== 'string' || typeof doc.error.message !== 'string')
    return `HTTP ${res.status} error without code and message: ${text.slice(0, 150)}`;
  if (code === 'KAPLOY_INTERNAL') return `HTTP ${res.status} KAPLOY_INTERNAL`;
  return undefined;
}

/** Raw requests fetch cannot send: broken request lines, huge headers, lying lengths, garbage. */
const RAW = [
  (t) => `GET /version HTTP/1.1\r\nHost: x\r\nauthorization: Bearer ${t}\r\n${'x-a: b\r\n'.repeat(3000)}\r\n`,
  (t) =>
    `GET /version HTTP/1.1\r\nHost: x\r\nauthorization: Bearer ${t}\r\nx-a: ${'b'.repeat(100_000)}\r\n\r\n`,
  () => 'GARBAGE\r\n\r\n',
  (t) =>
    `POST /reboot HTTP/1.1\r\nHost: x\r\nauthorization: Bearer ${t}\r\ncontent-type: application/json\r\nexpect: 100-continue\r\ncontent-length: 2\r\n\r\n{}`,
  (t) => `GET /version HTTP/1.1\r\nHost: x\r\nauthorization: Bearer ${t}\r\nexpect: bytes=9-1\r\n\r\n`,
  () => 'GET /\0 HTTP/1.1\r\nHost: x\r\n\r\n',
  () => 'GET /version HTTP/9.9\r\nHost: x\r\n\r\n',
  (t) =>
    `POST /environments HTTP/1.1\r\nHost: x\r\nauthorization: Bearer ${t}\r\ncontent-type: application/json\r\ncontent-length: 100\r\n\r\n{"descr`,
  (t) =>
    `POST /environments HTTP/1.1\r\nHost: x\r\nauthorization: Bearer ${t}\r\ncontent-type: application/json\r\ntransfer-encoding: chunked\r\n\r\nzz\r\n{}\r\n0\r\n\r\n`,
  (t) =>
    `POST /environments HTTP/1.1\r\nHost: x\r\nauthorization: Bearer ${t}\r\ncontent-type: application/json\r\ncontent-length: 2\r\ncontent-length: 3\r\n\r\n{}`,
  (t) =>
    `PUT /files/0123456789abcdef0123456789abcdef HTTP/1.1\r\nHost: x\r\nauthorization: Bearer ${t}\r\ncontent-type: application/octet-stream\r\ncontent-length: 1000000\r\n\r\nabc`,
  (t) => `GET /stats?node=${'a[1-1000]'.repeat(4)} HTTP/1.1\r\nHost: x\r\nauthorization: Bearer ${t}\r\n\r\n`,
  (t) => `GET /nodes/${'%'.repeat(10)} HTTP/1.1\r\nHost: x\r\nauthorization: Bearer ${t}\r\n\r\n`,
  (t) => `GET /version HTTP/1.1\r\nHost: x\r\nauthorization: Bearer ${t}\r\nx: \u00ff\u0001\r\n\r\n`,
];

/** Sends raw bytes, returns the status of the answer (0 when the engine closed without one). */
function rawRequest(url, bytes, signal) {
  const { hostname, port } = new URL(url);
  return new Promise((resolve, reject) => {
    const sock = net.connect({ host: hostname, port: Number(port) });
    let got = '';
    const done = () => {
      sock.destroy();
      const m = /^HTTP\/1\.[01] (\d{3})/.exec(got);
      resolve(m ? Number(m[1]) : 0);
    };
    const onAbort = () => {
      sock.destroy();
      reject(new Error('no answer before the deadline'));
    };
    signal.addEventListener('abort', onAbort, { once: true });
    sock.on('connect', () => {
      sock.write(bytes, 'latin1');
      // Half-close: a request whose body never comes must be answered or closed, not waited for.
      setTimeout(() => sock.end(), 200).unref();
    });
    sock.on('data', (d) => {
      got += d.toString('latin1');
      if (got.includes('\r\n\r\n')) done();
    });
    sock.on('close', () => {
      signal.removeEventListener('abort', onAbort);
      done();
    });
    sock.on('error', () => done());
  });
}

async function stillAnswers(url, tokens, signal) {
  const res = await fetch(new URL('/version', url), {
    headers: { authorization: `Bearer ${tokens.user}` },
    signal: AbortSignal.any([signal, AbortSignal.timeout(REQUEST_DEADLINE_MS)]),
  });
  await res.text();
  return res.status === 200 ? undefined : `GET /version answered ${res.status} after the fuzz`;
}

/**
 * `n` generated requests plus the raw ones against the engine at `url` (tokens: `user` without
 * rights on nodes, `admin`), then a check that it still answers.
 */
export async function httpSuite(rng, n, url, tokens, tally, signal = new AbortController().signal) {
  const S = 'http';
  let skipped = 0;
  for (let i = 0; i < n && !signal.aborted; i++) {
    const req = genRequest(rng, tokens);
    const input = `${req.method} ${req.path} ${JSON.stringify(req.headers).slice(0, 200)} ${String(req.body).slice(0, 200)}`;
    try {
      // Appended, not resolved: a path such as `//host` or `/\\x` must stay a path of this engine.
      const res = await fetch(`${url.replace(/\/$/, '')}${req.path}`, {
        method: req.method,
        headers: req.headers,
        body: req.body,
        signal: AbortSignal.any([signal, AbortSignal.timeout(REQUEST_DEADLINE_MS)]),
      });
      const why = await judgeAnswer(res, req.mutated);
      recordCase(tally, S, input, why, why?.startsWith('HTTP 5') || why?.includes('INTERNAL'));
    } catch (e) {
      if (signal.aborted) break;
      // fetch refuses some headers before sending (a TypeError): not the engine's doing.
      if (e instanceof TypeError && e.cause === undefined) {
        skipped++;
        continue;
      }
      recordCase(tally, S, input, `no answer: ${e.message} ${e.cause?.code ?? ''}`, true);
    }
  }
  for (const raw of RAW) {
    const bytes = raw(tokens.user);
    try {
      const status = await rawRequest(
        url,
        bytes,
        AbortSignal.any([signal, AbortSignal.timeout(REQUEST_DEADLINE_MS)]),
      );
      recordCase(
        tally,
        `${S} raw`,
        bytes.slice(0, 120),
        status >= 500 ? `HTTP ${status}` : undefined,
        status >= 500,
      );
    } catch (e) {
      recordCase(tally, `${S} raw`, bytes.slice(0, 120), e.message, true);
    }
  }
  if (process.env.KAPLOY_FUZZ_DEBUG) console.log(`http: ${skipped} requests fetch would not send`);
  recordCase(
    tally,
    S,
    'GET /version afterwards',
    await stillAnswers(url, tokens, signal).catch((e) => e.message),
    true,
  );
}

const KENV = {
  name: 'kfuzz',
  version: 1,
  os: 'linux',
  image: { file: 'http://127.0.0.1:9/x.tgz', kind: 'tar', compression: 'gzip' },
  boot: { kernel: '/vmlinuz' },
  filesystem: 'ext4',
};

/** The Kadeploy 3.3 dialect's main routes (its own listener, Basic authentication, YAML or JSON). */
const KADEPLOY_ROUTES = [
  { method: 'POST', path: '/environments', body: () => ({ environment: KENV }) },
  {
    method: 'POST',
    path: '/deployment',
    body: (rng) => ({
      nodes: [hostName(rng)],
      environment: { kind: 'database', user: 'alice', name: 'kfuzz' },
      ...(rng.chance(0.3) ? { deploy_partition: String(rng.int(1, 9)) } : {}),
      ...(rng.chance(0.3)
        ? {
            automata: { SetDeploymentEnv: [{ name: 'SetDeploymentEnvUntrusted', retries: 1, timeout: 100 }] },
          }
        : {}),
      ...(rng.chance(0.3) ? { breakpoint: 'BroadcastEnv' } : {}),
      ...(rng.chance(0.3) ? { ssh_authorized_keys: 'ssh-ed25519 AAAA x' } : {}),
    }),
  },
  {
    method: 'POST',
    path: '/reboot',
    body: (rng) => ({ nodes: [hostName(rng)], kind: 'simple', level: 'soft' }),
  },
  { method: 'PUT', path: '/power', body: (rng) => ({ nodes: [hostName(rng)], status: 'on', level: 'soft' }) },
  { method: 'POST', path: '/console', body: (rng) => ({ node: hostName(rng) }) },
  {
    method: 'GET',
    path: '/stats',
    query: (rng) => `?nodes=${genNodeSpec(rng).text}&date_min=2011:04:14:08:41:12`,
  },
  { method: 'GET', path: '/environments', query: () => '?username=alice&name=kfuzz' },
  { method: 'GET', path: '/nodes' },
  { method: 'GET', path: '/deployment/D-00000000-0000-0000-0000-000000000000' },
];

/** YAML a body may be: the JSON text itself, block style, or a hostile document. */
function yamlBody(rng, value) {
  return rng.pick([
    () => JSON.stringify(value),
    () =>
      `a: &a [x, x, x, x, x, x, x, x]\nb: &b [*a, *a, *a, *a, *a, *a, *a, *a]\nc: &c [*b, *b, *b, *b, *b, *b, *b, *b]\nd: [*c, *c, *c, *c, *c, *c, *c, *c, *c, *c]\n`,
    () => `nodes: ${'['.repeat(rng.pick([100, 30_000]))}`,
    () => `nodes: ${'a: '.repeat(20_000)}b`,
    () => '!!binary AAAA',
    () => `nodes: !!js/function "function(){}"\n`,
    () =>
      `nodes:\n${'  - node-1.testsite\n'.repeat(rng.pick([2, 20_000]))}environment: {kind: database, user: alice, name: kfuzz}\n`,
    () => mutateMany(rng, JSON.stringify(value)),
  ])();
}

/** Why a Kadeploy-dialect answer breaks the contract: a 400 carries its application error code. */
async function judgeKadeployAnswer(res) {
  const text = await res.text();
  if (res.status >= 500) return `HTTP ${res.status}: ${text.slice(0, 200)}`;
  if (res.status === 400 && !/^\d{1,3}$/.test(res.headers.get('x-application-error-code') ?? ''))
    return `HTTP 400 without X-Application-Error-Code: ${text.slice(0, 150)}`;
  return undefined;
}

/**
 * `n` generated requests to the Kadeploy-compatible listener at `url` (users without rights on
 * nodes), JSON or YAML bodies, valid then mutated: never a 5xx, every 400 with Kadeploy's error
 * code header; the listener still answers afterwards.
 */
export async function kadeployHttpSuite(rng, n, url, tokens, tally, signal = new AbortController().signal) {
  const S = 'http kadeploy';
  const basic = (user, token) => `Basic ${Buffer.from(`${user}:${token}`).toString('base64')}`;
  for (let i = 0; i < n && !signal.aborted; i++) {
    const r = rng.pick(KADEPLOY_ROUTES);
    const headers = { authorization: basic('alice', tokens.user), accept: 'text/plain, application/json' };
    let body;
    let path = r.path + (r.query ? r.query(rng) : '');
    const what = rng.int(0, 4);
    if (r.body) {
      const value = what === 1 ? mutateValue(rng, r.body(rng)) : r.body(rng);
      if (what === 2) {
        headers['content-type'] = 'application/x-yaml';
        body = yamlBody(rng, value);
      } else {
        headers['content-type'] = rng.pick([
          'application/json',
          'application/json',
          'application/yaml',
          'text/plain',
        ]);
        body = what === 3 ? mutateMany(rng, JSON.stringify(value)) : JSON.stringify(value);
      }
    } else if (what >= 2) path = mutateMany(rng, path);
    if (what === 4) {
      headers.authorization = rng.pick([
        basic('alice', `${tokens.user}x`),
        basic('../root', tokens.user),
        basic('alice:x', ''),
        `Basic ${mutateMany(rng, 'YWxpY2U6eA==')}`.replace(/[^\x21-\x7e ]/g, ''),
        'Basic',
      ]);
      headers['x-kadeploy-user'] = rng.pick(['root', 'admin', '', 'a b']);
    }
    path = path.replace(/[\0-\x20\x7f]/g, (c) => encodeURIComponent(c)).replace(/^[/\\]*/, '/');
    const input = `${r.method} ${path} ${String(body).slice(0, 300)}`;
    try {
      const res = await fetch(`${url.replace(/\/$/, '')}${path}`, {
        method: r.method,
        headers,
        body,
        signal: AbortSignal.any([signal, AbortSignal.timeout(REQUEST_DEADLINE_MS)]),
      });
      const why = await judgeKadeployAnswer(res);
      recordCase(tally, S, input, why, why?.startsWith('HTTP 5'));
    } catch (e) {
      if (signal.aborted) break;
      recordCase(tally, S, input, `no answer: ${e.message} ${e.cause?.code ?? ''}`, true);
    }
  }
  const res = await fetch(`${url.replace(/\/$/, '')}/version`, {
    signal: AbortSignal.timeout(REQUEST_DEADLINE_MS),
  }).catch((e) => e);
  const why =
    res instanceof Error
      ? res.message
      : res.status === 200
        ? undefined
        : `GET /version answered ${res.status}`;
  if (!(res instanceof Error)) await res.text();
  recordCase(tally, S, 'GET /version afterwards', why, true);
}
