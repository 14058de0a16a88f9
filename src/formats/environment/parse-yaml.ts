import { formatKeyPath } from '../../common/config/key-path.js';
import { isYamlSyntaxError, parseYamlSource } from '../../common/config/yaml-source.js';
import { descriptionError, type Locator } from './description-error.js';
import { normaliseDescription } from './normalise.js';
import type { ParsedDescription } from './types.js';

/** Parses a YAML 3.x description; errors name the file, line and key. */
export function parseYamlDescription(text: string, file: string): ParsedDescription {
  const source = parseYamlSource(text);
  if (isYamlSyntaxError(source)) {
    throw descriptionError(
      file,
      source.line === undefined ? undefined : { key: '(yaml)', line: source.line },
      `not valid YAML: ${source.message}`,
    );
  }
  const locate: Locator = (path) => {
    const line = source.lineOf(path);
    return { key: formatKeyPath(path), ...(line !== undefined ? { line } : {}) };
  };
  return normaliseDescription(source.data, file, locate, 'yaml');
}
