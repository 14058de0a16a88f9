import { fetchText } from './fetch-text.js';
import { parseKeys } from './read-keys.js';

/**
 * `-k http://depot/~user/authorized_keys`: the multi-site tutorial publishes the caller's keys on
 * a web server so every site installs the same ones. The text is checked with the same rules as a
 * local key file (public keys only), then sent to every site.
 */
export async function fetchKeys(url: string, signal: AbortSignal): Promise<{ file: string; text: string }> {
  return parseKeys(await fetchText(url, 'key file', signal), url);
}
