import { lookup as dnsLookup } from 'node:dns';
import http, { type IncomingHttpHeaders, type IncomingMessage } from 'node:http';
import https from 'node:https';
import { isIP, type LookupFunction } from 'node:net';
import { Transform } from 'node:stream';
import { KaployError } from '../../common/errors.js';
import { isLocalAddress } from './local-addresses.js';

/** What the engine accepts from an image server: redirects, deadlines, and who it will not call. */
export interface DownloadPolicy {
  /** Redirects followed at most (each one a new request). */
  maxRedirects: number;
  /** Whether a redirect may lead to another host than the one the URL names. */
  crossHostRedirects: boolean;
  /** No answer, or no byte of the body, for this long: the server is gone (or a slow-loris). */
  idleTimeoutMs: number;
  /** The whole download, answer and body: a server trickling bytes cannot hold a deployment. */
  timeoutMs: number;
  /** The engine's own port: a URL (or redirect) to the engine itself is refused. */
  selfPort?: number;
}

export interface HttpAnswer {
  /** 200 (the body follows) or 304 (the cached copy is still the URL's content). */
  status: 200 | 304;
  headers: IncomingHttpHeaders;
  /** The body, checked against Content-Length (a short or long body errors, never ends quietly). */
  body: IncomingMessage | Transform;
  /** Content-Length when the server announced one. */
  length?: number;
  /** The URL that answered, after redirects. */
  url: string;
}

function fail(url: string, why: string, cause?: unknown): KaployError {
  return new KaployError('KAPLOY_FILE', `cannot download ${url}: ${why}`, {
    file: url,
    ...(cause ? { cause } : {}),
  });
}

/** Refuses a connection to the engine itself, by name or once the name is resolved. */
function checkNotSelf(u: URL, original: string, selfPort: number | undefined): LookupFunction | undefined {
  if (selfPort === undefined) return undefined;
  const port = Number(u.port || (u.protocol === 'https:' ? 443 : 80));
  if (port !== selfPort) return undefined;
  const host = u.hostname.replace(/^\[|\]$/g, '');
  if (isIP(host) && isLocalAddress(host)) throw fail(original, `${u.host} is this engine itself`);
  if (host === 'localhost') throw fail(original, `${u.host} is this engine itself`);
  return (hostname, options, cb) => {
    dnsLookup(hostname, { ...options, all: false }, (err, address, family) => {
      if (!err && typeof address === 'string' && isLocalAddress(address)) {
        cb(fail(original, `${u.host} is this engine itself`) as unknown as NodeJS.ErrnoException, '', 0);
        return;
      }
      (cb as (e: NodeJS.ErrnoException | null, a: string, f: number) => void)(
        err,
        address as string,
        family ?? 4,
      );
    });
  };
}

/** Counts the body against Content-Length: a close before the end, or more bytes, is an error. */
function checkedBody(
  req: http.ClientRequest,
  res: IncomingMessage,
  length: number | undefined,
  url: string,
): Transform {
  let got = 0;
  const t = new Transform({
    transform(chunk: Buffer, _e, cb) {
      got += chunk.length;
      if (length !== undefined && got > length)
        cb(fail(url, `the server sent more than the ${length} bytes it announced`));
      else cb(null, chunk);
    },
    flush(cb) {
      if (!res.complete)
        cb(fail(url, `the connection closed after ${got} bytes, before the end of the body`));
      else if (length !== undefined && got !== length)
        cb(fail(url, `the body has ${got} bytes, the server announced ${length}`));
      else cb();
    },
  });
  // A deadline destroys the request with its own reason: that reason, not the reset it causes.
  let reason: Error | undefined;
  req.on('error', (e) => {
    reason = e;
    t.destroy(e);
  });
  res.on('aborted', () =>
    t.destroy(reason ?? fail(url, `the connection closed after ${got} bytes, before the end of the body`)),
  );
  res.on('error', (e) =>
    t.destroy(
      reason ??
        (e instanceof KaployError
          ? e
          : fail(url, `the connection failed after ${got} bytes: ${e.message}`, e)),
    ),
  );
  res.pipe(t);
  return t;
}

/**
 * GET of an image URL with node:http(s) (not undici: docs/decisions/0007), under the site's
 * download policy: bounded redirects (to another host only when allowed, never to the engine
 * itself), an idle deadline on the answer and on every byte, a deadline on the whole download,
 * and a body that errors when it is shorter or longer than announced. HTTP/1.0 and close-delimited
 * bodies are read to the close. `headers` carries the validators of a conditional GET. Every
 * failure is a KAPLOY_FILE error naming the URL (a 4xx for the engine's caller, never a crash).
 */
export async function httpGet(
  url: string,
  policy: DownloadPolicy,
  opts: { signal?: AbortSignal; headers?: Record<string, string> } = {},
): Promise<HttpAnswer> {
  const total = AbortSignal.timeout(policy.timeoutMs);
  const signal = opts.signal ? AbortSignal.any([opts.signal, total]) : total;
  let current = url;
  let first: URL | undefined;
  for (let hop = 0; ; hop++) {
    let u: URL;
    try {
      u = new URL(current);
    } catch {
      throw fail(url, `invalid URL ${current}`);
    }
    first ??= u;
    const mod = u.protocol === 'https:' ? https : u.protocol === 'http:' ? http : undefined;
    if (!mod) throw fail(url, `unsupported protocol ${u.protocol}`);
    if (u.hostname !== first.hostname && !policy.crossHostRedirects)
      throw fail(url, `redirected to another host (${u.host}), which this site does not allow`);
    const lookup = checkNotSelf(u, url, policy.selfPort);
    const { req, res } = await request(mod, u, url, policy, signal, opts.headers ?? {}, lookup);
    const status = res.statusCode ?? 0;
    if ([301, 302, 303, 307, 308].includes(status)) {
      res.resume();
      const loc = res.headers.location;
      if (!loc) throw fail(url, `HTTP ${status} without a Location`);
      if (hop >= policy.maxRedirects) throw fail(url, `more than ${policy.maxRedirects} redirects`);
      current = new URL(loc, u).toString();
      continue;
    }
    if (status === 304) {
      res.resume();
      return { status: 304, headers: res.headers, body: res, url: current };
    }
    if (status !== 200) {
      res.resume();
      throw fail(url, `HTTP ${status}${res.statusMessage ? ` ${res.statusMessage}` : ''}`);
    }
    const cl = res.headers['content-length'];
    const length = cl !== undefined && /^\d{1,16}$/.test(cl) ? Number(cl) : undefined;
    if (cl !== undefined && length === undefined) {
      res.destroy();
      throw fail(url, `invalid Content-Length '${cl}'`);
    }
    return {
      status: 200,
      headers: res.headers,
      body: checkedBody(req, res, length, url),
      ...(length !== undefined ? { length } : {}),
      url: current,
    };
  }
}

/** One request: resolves with the answer's head; the deadlines stay on its socket until its end. */
function request(
  mod: typeof http | typeof https,
  u: URL,
  original: string,
  policy: DownloadPolicy,
  signal: AbortSignal,
  headers: Record<string, string>,
  lookup: LookupFunction | undefined,
): Promise<{ req: http.ClientRequest; res: IncomingMessage }> {
  return new Promise((resolve, reject) => {
    if (signal.aborted) {
      reject(abortError(original, signal));
      return;
    }
    const req = mod.get(u, {
      headers: { 'user-agent': 'kaploy-engine', ...headers },
      agent: false,
      ...(lookup ? { lookup } : {}),
    });
    const onAbort = () => req.destroy(abortError(original, signal));
    signal.addEventListener('abort', onAbort, { once: true });
    req.setTimeout(policy.idleTimeoutMs, () =>
      req.destroy(fail(original, `no data from the server for ${policy.idleTimeoutMs / 1000} s`)),
    );
    req.on('close', () => signal.removeEventListener('abort', onAbort));
    req.on('error', (e) => reject(e instanceof KaployError ? e : fail(original, e.message, e)));
    req.on('response', (res) => resolve({ req, res }));
  });
}

function abortError(url: string, signal: AbortSignal): Error {
  const r = signal.reason as Error | undefined;
  if (r?.name === 'TimeoutError') return fail(url, 'the download took longer than the site allows');
  return r instanceof Error ? r : new Error(String(r ?? 'aborted'));
}
