import { readFileSync } from 'node:fs';
import { KaployError } from '../../common/errors.js';
import { parseDescription } from '../../formats/environment/parse.js';
import type { EngineContext } from '../server/context.js';
import { addEnvironment } from './environment-service.js';

/**
 * Records reference environments for a site (`kaploy server add-env`): run by a site admin with
 * access to the data directory, as the owner of public environments (`deploy` by default).
 * Idempotent: a (user, name, version) already recorded is left alone, so it can run at every
 * start of a virtual site. Files must be URLs or lie in the site's image directories.
 */
export async function seedEnvironments(
  ctx: EngineContext,
  user: string,
  files: readonly string[],
  signal?: AbortSignal,
): Promise<{ added: string[]; skipped: string[]; warnings: string[] }> {
  const added: string[] = [];
  const skipped: string[] = [];
  const warnings: string[] = [];
  for (const file of files) {
    let text: string;
    try {
      text = readFileSync(file, 'utf8');
    } catch (e) {
      throw new KaployError('KAPLOY_FILE', `cannot read ${file}: ${(e as NodeJS.ErrnoException).code}`, {
        file,
      });
    }
    const { env } = parseDescription(text, file);
    const id = `${env.name}:${env.version}`;
    if (ctx.store.environments.exists(user, env.name, env.version)) {
      skipped.push(id);
      continue;
    }
    const res = await addEnvironment(
      ctx,
      { name: user, admin: true },
      { description: text, file, uploads: [] },
      signal,
    );
    warnings.push(...res.warnings);
    added.push(id);
  }
  return { added, skipped, warnings };
}
