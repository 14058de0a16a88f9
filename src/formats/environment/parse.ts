import { descriptionError } from './description-error.js';
import { looksLikeKeyValue, parseKeyValueDescription } from './parse-keyvalue.js';
import { parseYamlDescription } from './parse-yaml.js';
import type { ParsedDescription } from './types.js';

/** Largest description accepted (they are a few hundred bytes; this bounds what we parse). */
export const MAX_DESCRIPTION_BYTES = 256 * 1024;

/**
 * Parses a description in either format. The 3.1 key/value format is recognised by its
 * `tarball :` line (YAML 3.x descriptions have `image:` instead).
 */
export function parseDescription(text: string, file: string): ParsedDescription {
  if (text.includes('\0'))
    throw descriptionError(file, undefined, 'binary content: expected a YAML or key/value description');
  if (Buffer.byteLength(text) > MAX_DESCRIPTION_BYTES) {
    throw descriptionError(
      file,
      undefined,
      `too large: expected a description under ${MAX_DESCRIPTION_BYTES} bytes`,
    );
  }
  if (text.trim() === '')
    throw descriptionError(file, undefined, 'empty: expected a YAML or key/value description');
  return looksLikeKeyValue(text) ? parseKeyValueDescription(text, file) : parseYamlDescription(text, file);
}
