import { parseDescription } from '../../formats/environment/parse.js';
import { isUrl } from '../../formats/environment/server-paths.js';
import { readDescriptionFile } from '../environments/environments.js';
import { fetchText } from './fetch-text.js';

/** `-a FILE|URL` read once for every site. */
export interface GridDescription {
  file: string;
  text: string;
  cwd: string;
  warnings: string[];
}

/**
 * Reads (or downloads) the description once and parses it here, so a mistake is reported with
 * its file and line before any site is asked, and its warnings are shown once, not per site.
 */
export async function loadDescription(
  file: string,
  cwd: string,
  signal: AbortSignal,
): Promise<GridDescription> {
  const text = isUrl(file)
    ? await fetchText(file, 'description', signal)
    : await readDescriptionFile(file, cwd, signal);
  const { warnings } = parseDescription(text, file);
  return { file, text, cwd, warnings };
}
