import { realpathSync } from 'node:fs';
import path from 'node:path';
import { KaployError } from '../../common/errors.js';

/** A file reference downloaded by the engine (or, for `-a`/`-k`, by the client): http(s) URLs. */
export const isUrl = (ref: string): boolean => /^https?:\/\//i.test(ref);

/** `server:///srv/images/x.tgz` or an absolute path; undefined for anything else. */
export function serverPathOf(ref: string): string | undefined {
  if (ref.startsWith('server://')) return ref.slice('server://'.length);
  return undefined;
}

/** True when `p` lies (lexically) inside one of `dirs`. */
export function isUnder(p: string, dirs: readonly string[]): boolean {
  const abs = path.resolve(p);
  return dirs.some((d) => abs === d || abs.startsWith(d.endsWith(path.sep) ? d : d + path.sep));
}

/**
 * Resolves a server-side image path. It must be absolute and, once `..` and symbolic links are
 * resolved, lie inside one of the site's image directories: the engine never reads a file a user
 * could not name through those directories.
 */
export function resolveServerPath(p: string, imageDirs: readonly string[], key: string): string {
  if (!path.isAbsolute(p)) {
    throw new KaployError('KAPLOY_FILE', `${key}: '${p}' is not an absolute path on the server`, {
      file: p,
      key,
    });
  }
  const allowed = imageDirs.map((d) => {
    try {
      return realpathSync(d);
    } catch {
      return path.resolve(d);
    }
  });
  const outside = () =>
    new KaployError(
      'KAPLOY_FILE',
      `${key}: '${p}' is outside the site's image directories (${imageDirs.join(', ') || 'none configured'})`,
      { file: p, key },
    );
  if (!isUnder(p, imageDirs) && !isUnder(p, allowed)) throw outside();
  let real: string;
  try {
    real = realpathSync(p);
  } catch (e) {
    throw new KaployError(
      'KAPLOY_FILE',
      `${key}: '${p}' does not exist on the server (${(e as NodeJS.ErrnoException).code})`,
      {
        file: p,
        key,
      },
    );
  }
  if (!isUnder(real, allowed)) throw outside();
  return real;
}
