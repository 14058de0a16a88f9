import type { Readable } from 'node:stream';
import { KaployError } from '../../common/errors.js';
import { fetchIntoCache } from '../environments/fetch-url.js';
import type { FileCache } from '../environments/file-cache.js';
import { httpGet } from '../environments/http-get.js';

/**
 * Files named in a Kadeploy request: http(s) URLs and `server://` paths are the engine's to read;
 * any other path is on the client's machine, which serves it at `<client>/<Base64url(path)>` (its
 * `client` parameter). The engine fetches those itself; only http(s), bounded in size.
 */
export function isRemote(ref: string): boolean {
  return /^(https?|server):\/\//i.test(ref);
}

/** The client's export URL, checked where it enters: http(s), no credentials, bounded. */
export function checkClient(client: string | undefined): string | undefined {
  if (client === undefined) return undefined;
  let u: URL;
  try {
    u = new URL(client);
  } catch {
    throw new KaployError('KAPLOY_CLIENT', `invalid client's export '${client}': not a URL`);
  }
  if ((u.protocol !== 'http:' && u.protocol !== 'https:') || u.username || u.password || client.length > 1024)
    throw new KaployError(
      'KAPLOY_CLIENT',
      `invalid client's export '${client}': expected http(s)://host:port`,
    );
  return client.replace(/\/+$/, '');
}

/** Where a local file is fetched from: the path without `local://`, base64url as Ruby writes it (padded). */
function clientFileUrl(client: string, ref: string): { url: string; path: string } {
  const p = ref.replace(/^local:\/\//i, '');
  const b64 = Buffer.from(p, 'utf8').toString('base64').replace(/\+/g, '-').replace(/\//g, '_');
  return { url: `${client}/${b64}`, path: p };
}

const needClient = (ref: string) =>
  new KaployError(
    'KAPLOY_CLIENT',
    `the file ${ref} is local to the client: give the client's export (client)`,
    {
      file: ref,
    },
  );

/** A small text file (authorized_keys): from a URL or the client's export, at most `max` bytes. */
export async function fetchText(
  cache: FileCache,
  ref: string,
  client: string | undefined,
  max: number,
  signal: AbortSignal,
): Promise<string> {
  let url = ref;
  if (!/^https?:\/\//i.test(ref)) {
    if (!client) throw needClient(ref);
    url = clientFileUrl(client, ref).url;
  }
  let body: Readable;
  try {
    // The site's download policy (redirects, deadlines, never the engine itself), as for images.
    const policy = {
      ...cache.limits.download,
      ...(cache.selfPort !== undefined ? { selfPort: cache.selfPort } : {}),
    };
    const answer = await httpGet(url, policy, { signal });
    body = answer.body;
  } catch (e) {
    throw new KaployError('KAPLOY_FILE', `cannot fetch ${ref}: ${(e as Error).message}`, {
      file: ref,
      cause: e,
    });
  }
  const chunks: Buffer[] = [];
  let size = 0;
  for await (const c of body as AsyncIterable<Buffer>) {
    size += c.length;
    if (size > max) {
      body.destroy();
      throw new KaployError('KAPLOY_FILE', `${ref} is larger than ${max} bytes`, { file: ref });
    }
    chunks.push(c);
  }
  return Buffer.concat(chunks).toString('utf8');
}

/**
 * A local image or archive fetched from the client's export into the image cache and recorded as
 * the caller's upload: what kaploy's own client does with PUT /files/:md5, done by the engine.
 */
export async function fetchClientFile(
  cache: FileCache,
  uploads: { record(md5: string, user: string, size: number): void },
  user: string,
  client: string,
  ref: string,
  signal: AbortSignal,
): Promise<{ ref: string; path: string; md5: string }> {
  const { url, path } = clientFileUrl(client, ref);
  const { md5, size } = await fetchIntoCache(cache, url, { signal });
  uploads.record(md5, user, size);
  return { ref, path, md5 };
}
