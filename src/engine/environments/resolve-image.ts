import { KaployError } from '../../common/errors.js';
import { resolveServerPath, serverPathOf } from '../../formats/environment/server-paths.js';
import type { Environment, FileSource } from '../../formats/environment/types.js';
import type { EngineContext } from '../server/context.js';
import { type OnDownloadProgress, progressReporter } from './download-progress.js';
import { fetchIntoCache } from './fetch-url.js';

export interface ResolvedFile {
  /** A local file the engine can stream to the nodes. */
  path: string;
  md5: string;
}

function mismatch(file: string): KaployError {
  return new KaployError(
    'KAPLOY_CHECKSUM',
    `Checksum of the file '${file}' does not match (an update is necessary)`,
    { file },
  );
}

/**
 * Finds the bytes of one recorded file and checks them against the recorded checksum before
 * anything uses them; a mismatch is an error raised before any node is touched.
 */
async function resolveFile(
  ctx: EngineContext,
  f: { file: string; md5: string; source?: FileSource },
  signal?: AbortSignal,
  onProgress?: OnDownloadProgress,
): Promise<ResolvedFile> {
  switch (f.source) {
    case 'url': {
      try {
        const { md5 } = await fetchIntoCache(ctx.files, f.file, {
          expectedMd5: f.md5,
          ...(signal ? { signal } : {}),
          onProgress: progressReporter(ctx.logger, onProgress),
        });
        return { path: ctx.files.path(md5), md5 };
      } catch (e) {
        if (e instanceof KaployError && e.code === 'KAPLOY_CHECKSUM') throw mismatch(f.file);
        throw e;
      }
    }
    case 'server': {
      const real = resolveServerPath(serverPathOf(f.file) ?? f.file, ctx.config.imageDirs, f.file);
      const md5 = await ctx.files.memo.of(real, signal);
      if (md5 !== f.md5) throw mismatch(f.file);
      return { path: real, md5 };
    }
    case 'upload': {
      if (!ctx.files.has(f.md5)) {
        throw new KaployError(
          'KAPLOY_FILE',
          `the uploaded file '${f.file}' is no longer on the server: update the checksum with kaenv3`,
          {
            file: f.file,
          },
        );
      }
      const p = ctx.files.path(f.md5);
      if ((await ctx.files.memo.of(p, signal)) !== f.md5) throw mismatch(f.file);
      ctx.files.touch(f.md5);
      return { path: p, md5: f.md5 };
    }
    default:
      throw new KaployError('KAPLOY_ENVIRONMENT', `the file '${f.file}' was never recorded by the engine`, {
        file: f.file,
      });
  }
}

/** The image of an environment, checked (for the deployment workflow). */
export function resolveImage(
  ctx: EngineContext,
  env: Environment,
  signal?: AbortSignal,
  onProgress?: OnDownloadProgress,
): Promise<ResolvedFile> {
  return resolveFile(ctx, env.image, signal, onProgress);
}

/** Image, preinstall and postinstalls, all checked. */
export async function resolveEnvironmentFiles(
  ctx: EngineContext,
  env: Environment,
  signal?: AbortSignal,
  onProgress?: OnDownloadProgress,
): Promise<{ image: ResolvedFile; preinstall?: ResolvedFile; postinstalls: ResolvedFile[] }> {
  const image = await resolveImage(ctx, env, signal, onProgress);
  const postinstalls: ResolvedFile[] = [];
  for (const p of env.postinstalls)
    postinstalls.push(
      await resolveFile(
        ctx,
        { file: p.archive, md5: p.md5, ...(p.source ? { source: p.source } : {}) },
        signal,
      ),
    );
  if (!env.preinstall) return { image, postinstalls };
  const pre = env.preinstall;
  return {
    image,
    preinstall: await resolveFile(
      ctx,
      { file: pre.archive, md5: pre.md5, ...(pre.source ? { source: pre.source } : {}) },
      signal,
    ),
    postinstalls,
  };
}
