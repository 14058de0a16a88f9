import { readFileSync } from 'node:fs';
import { KaployError } from '../errors.js';

/**
 * The read step: the file's text, or KAPLOY_CONFIG naming the file and the system's reason
 * (`what` says which configuration, e.g. `the client configuration`; `hint` how to point the
 * program at another one).
 */
export function readConfigText(file: string, what: string, hint = ''): string {
  try {
    return readFileSync(file, 'utf8');
  } catch (e) {
    const reason = (e as NodeJS.ErrnoException).code ?? (e as Error).message;
    throw new KaployError('KAPLOY_CONFIG', `cannot read ${what} ${file}: ${reason}${hint}`, {
      file,
      cause: e,
    });
  }
}
