import { KaployError } from '../../common/errors.js';

/**
 * Where a key of a description was written: the key as the user wrote it (YAML path or
 * key/value key) and its line when known. Each format supplies its own locator.
 */
export interface KeyLocation {
  key: string;
  line?: number;
}
export type Locator = (path: readonly (string | number)[]) => KeyLocation;

/** A malformed description: the message names the file, line and key, and what is expected. */
export function descriptionError(file: string, at: KeyLocation | undefined, message: string): KaployError {
  const where = at ? `${at.line !== undefined ? `${file}:${at.line}` : file}: ${at.key}` : file;
  return new KaployError('KAPLOY_FILE', `${where}: ${message}`, {
    file,
    ...(at?.line !== undefined ? { line: at.line } : {}),
    ...(at ? { key: at.key } : {}),
  });
}

export function warningAt(file: string, at: KeyLocation, message: string): string {
  return `${at.line !== undefined ? `${file}:${at.line}` : file}: ${at.key}: ${message}`;
}
