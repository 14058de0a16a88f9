import path from 'node:path';
import type { FileMove } from '../../api/file-moves.js';
import { KaployError } from '../../common/errors.js';
import { isUnder } from '../../formats/environment/server-paths.js';
import type { Environment, FileSource } from '../../formats/environment/types.js';
import type { AuthenticatedUser } from '../auth/authenticate.js';
import type { EngineContext } from '../server/context.js';

function moved(ref: string, moves: readonly FileMove[]): string {
  for (const m of moves) {
    const prefix = m.from.endsWith('/') ? m.from : `${m.from}/`;
    if (ref === m.from) return m.to;
    if (ref.startsWith(prefix)) return (m.to.endsWith('/') ? m.to : `${m.to}/`) + ref.slice(prefix.length);
  }
  return ref;
}

function sourceOf(ctx: EngineContext, ref: string, previous: FileSource | undefined): FileSource | undefined {
  if (/^https?:\/\//i.test(ref)) return 'url';
  if (ref.startsWith('server://') || (path.isAbsolute(ref) && isUnder(ref, ctx.config.imageDirs)))
    return 'server';
  // Uploaded content is found by its checksum: where the user keeps it does not matter.
  return previous === 'upload' ? 'upload' : previous;
}

/**
 * Rewrites the file paths of every recorded environment after the site moved its images (admins
 * only). Checksums are kept: moving a file does not change it, and the next deployment checks it.
 */
export function moveEnvironmentFiles(
  ctx: EngineContext,
  caller: AuthenticatedUser,
  moves: readonly FileMove[],
): { updated: number } {
  if (!caller.admin)
    throw new KaployError('KAPLOY_RIGHTS', 'only site administrators can move environment files');
  let updated = 0;
  ctx.store.transaction(() => {
    for (const e of ctx.store.environments.find({})) {
      const next: Environment = structuredClone(e);
      const image = moved(e.image.file, moves);
      next.image = { ...e.image, file: image };
      const src = sourceOf(ctx, image, e.image.source);
      if (src) next.image.source = src;
      if (e.preinstall) {
        const a = moved(e.preinstall.archive, moves);
        next.preinstall = { ...e.preinstall, archive: a };
        const s = sourceOf(ctx, a, e.preinstall.source);
        if (s) next.preinstall.source = s;
      }
      next.postinstalls = e.postinstalls.map((p) => {
        const a = moved(p.archive, moves);
        const s = sourceOf(ctx, a, p.source);
        return { ...p, archive: a, ...(s ? { source: s } : {}) };
      });
      if (JSON.stringify(next) === JSON.stringify(e)) continue;
      const { id: _id, created: _c, ...plain } = next as typeof e;
      ctx.store.environments.update(e.id, plain);
      updated++;
    }
  });
  return { updated };
}
