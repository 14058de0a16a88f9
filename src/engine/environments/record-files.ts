import path from 'node:path';
import type { UploadedFile } from '../../api/uploaded-file.js';
import { KaployError } from '../../common/errors.js';
import { MD5_RE } from '../../common/md5.js';
import { isUnder, isUrl, resolveServerPath, serverPathOf } from '../../formats/environment/server-paths.js';
import type { Environment, FileSource } from '../../formats/environment/types.js';
import type { EngineContext } from '../server/context.js';
import { type OnDownloadProgress, progressReporter } from './download-progress.js';
import { fetchIntoCache } from './fetch-url.js';

export interface RecordedFile {
  file: string;
  md5: string;
  source: FileSource;
}

/**
 * Decides where the engine takes one file from and computes its checksum: http(s) URLs are
 * downloaded (and cached), server paths must lie in the image directories, anything else must have
 * been uploaded by this very user (the engine never reads a user's files with its own privileges).
 */
async function recordFile(
  ctx: EngineContext,
  user: string,
  ref: string,
  key: string,
  uploads: readonly UploadedFile[],
  signal?: AbortSignal,
  onProgress?: OnDownloadProgress,
): Promise<RecordedFile> {
  if (isUrl(ref)) {
    const { md5 } = await fetchIntoCache(ctx.files, ref, {
      ...(signal ? { signal } : {}),
      onProgress: progressReporter(ctx.logger, onProgress),
    });
    return { file: ref, md5, source: 'url' };
  }
  const serverPath = serverPathOf(ref);
  if (serverPath !== undefined || (path.isAbsolute(ref) && isUnder(ref, ctx.config.imageDirs))) {
    const real = resolveServerPath(serverPath ?? ref, ctx.config.imageDirs, key);
    return { file: ref, md5: await ctx.files.memo.of(real, signal), source: 'server' };
  }
  const up = uploads.find((u) => u.ref === ref);
  if (!up) {
    throw new KaployError(
      'KAPLOY_FILE',
      `${key}: '${ref}' is neither an http(s) URL, nor a path in the site's image directories (${ctx.config.imageDirs.join(', ') || 'none'}), nor a file uploaded by the client`,
      { file: ref, key },
    );
  }
  if (!MD5_RE.test(up.md5) || !ctx.store.uploads.has(up.md5, user) || !ctx.files.has(up.md5)) {
    throw new KaployError(
      'KAPLOY_FILE',
      `${key}: '${ref}' was not uploaded to the server (send it with PUT /files/${up.md5})`,
      {
        file: ref,
        key,
      },
    );
  }
  return { file: up.path, md5: up.md5, source: 'upload' };
}

/** Records every file of an environment (image, preinstall, postinstalls): checksums and sources. */
export async function recordEnvironmentFiles(
  ctx: EngineContext,
  user: string,
  env: Environment,
  uploads: readonly UploadedFile[],
  opts: { image?: boolean; archives?: boolean; signal?: AbortSignal; onProgress?: OnDownloadProgress } = {},
): Promise<Environment> {
  const out: Environment = structuredClone(env);
  if (opts.image !== false) {
    const r = await recordFile(
      ctx,
      user,
      env.image.file,
      'image.file',
      uploads,
      opts.signal,
      opts.onProgress,
    );
    out.image = { ...out.image, file: r.file, md5: r.md5, source: r.source };
  }
  if (opts.archives !== false) {
    if (env.preinstall) {
      const r = await recordFile(
        ctx,
        user,
        env.preinstall.archive,
        'preinstall.archive',
        uploads,
        opts.signal,
      );
      out.preinstall = { ...env.preinstall, archive: r.file, md5: r.md5, source: r.source };
    }
    out.postinstalls = [];
    for (const [i, p] of env.postinstalls.entries()) {
      const r = await recordFile(ctx, user, p.archive, `postinstalls[${i}].archive`, uploads, opts.signal);
      out.postinstalls.push({ ...p, archive: r.file, md5: r.md5, source: r.source });
    }
  }
  return out;
}
