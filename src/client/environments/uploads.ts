import { createReadStream, statSync } from 'node:fs';
import path from 'node:path';
import type { UploadedFile } from '../../api/uploaded-file.js';
import { KaployError } from '../../common/errors.js';
import { md5File } from '../../common/md5.js';
import { isUnder, isUrl } from '../../formats/environment/server-paths.js';
import type { Environment } from '../../formats/environment/types.js';
import type { ApiClient } from '../http-client.js';

/** Files of an environment as written in its description (image, preinstall, postinstalls). */
export function fileRefs(env: Environment, which: { image?: boolean; archives?: boolean } = {}): string[] {
  const refs: string[] = [];
  if (which.image !== false) refs.push(env.image.file);
  if (which.archives !== false) {
    if (env.preinstall) refs.push(env.preinstall.archive);
    for (const p of env.postinstalls) refs.push(p.archive);
  }
  return refs;
}

/**
 * Sends the files a description names on the client's machine: the client reads them with the
 * user's own privileges, so the engine never opens a user's file with its own. URLs, server://
 * paths and absolute paths under the site's image directories are left to the engine. A file the
 * engine already holds for this user is not sent again.
 */
export async function uploadLocalFiles(
  client: ApiClient,
  refs: readonly string[],
  opts: { cwd: string; imageDirs: readonly string[]; signal?: AbortSignal },
): Promise<UploadedFile[]> {
  const out: UploadedFile[] = [];
  for (const ref of new Set(refs)) {
    if (isUrl(ref) || ref.startsWith('server://') || (path.isAbsolute(ref) && isUnder(ref, opts.imageDirs)))
      continue;
    const abs = path.resolve(opts.cwd, ref);
    try {
      if (!statSync(abs).isFile()) throw new Error('not a regular file');
    } catch (e) {
      throw new KaployError(
        'KAPLOY_FILE',
        `cannot read the local file '${ref}' (${abs}): ${(e as NodeJS.ErrnoException).code ?? (e as Error).message}`,
        {
          file: ref,
        },
      );
    }
    const md5 = await md5File(abs, opts.signal);
    const known = await client.request<{ present: boolean }>('GET', `/files/${md5}`, {
      ...(opts.signal ? { signal: opts.signal } : {}),
    });
    if (!known.present)
      await client.upload(`/files/${md5}`, createReadStream(abs), opts.signal ? { signal: opts.signal } : {});
    out.push({ ref, path: abs, md5 });
  }
  return out;
}
