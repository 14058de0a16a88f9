import { KaployError } from '../errors.js';
import { nearestKey } from './did-you-mean.js';
import { formatKeyPath, type KeyPath } from './key-path.js';
import type { CompiledSchema } from './schema.js';
import { findUnknownKeys } from './unknown-keys.js';
import { isYamlSyntaxError, parseYamlSource, type YamlSource } from './yaml-source.js';

/**
 * The configuration pipeline every file kind goes through: read (read-file.ts) -> YAML with
 * positions -> unknown keys -> schema (types, ranges, defaults) -> the kind's own normalise step
 * -> its cross-field rules. Each step reports through a ConfigReporter, so every problem names the
 * file and the key (and the line when the YAML parser gives it).
 */
export interface ConfigReporter {
  fail(path: KeyPath, message: string): never;
  warn(path: KeyPath, message: string): void;
}

/** Admin files (site, hooks, client) refuse unknown keys; user descriptions warn, as Kadeploy does. */
export type UnknownKeyPolicy = 'refuse' | 'warn';

export function checkAgainstSchema(
  schema: CompiledSchema,
  data: unknown,
  unknownKeys: UnknownKeyPolicy,
  reporter: ConfigReporter,
): void {
  for (const u of findUnknownKeys(schema.schema, data)) {
    if (unknownKeys === 'warn') {
      // Kadeploy's wording, which users' scripts may grep for.
      reporter.warn([...u.path, u.key], 'Unused field (unknown key, ignored)');
    } else {
      const near = nearestKey(u.key, u.known);
      const hint = near === undefined ? '' : `; did you mean ${near}?`;
      const known = u.known.length > 0 ? ` (known: ${u.known.join(', ')})` : '';
      reporter.fail([...u.path, u.key], u.message ?? `unknown key${hint}${known}`);
    }
  }
  const problem = schema.check(data);
  if (problem) reporter.fail(problem.path, problem.message);
}

/**
 * `FILE: KEY: MESSAGE (line N)`: the file and key first, as every admin message always was, so
 * they read the same with or without a line.
 */
function configError(file: string, key: string, message: string, line?: number): KaployError {
  const at = line === undefined ? '' : ` (line ${line})`;
  return new KaployError('KAPLOY_CONFIG', `${file}: ${key}: ${message}${at}`, {
    file,
    key,
    ...(line === undefined ? {} : { line }),
  });
}

/** The reporter of an admin file: problems are KAPLOY_CONFIG errors; there are no warnings to give. */
export function adminReporter(file: string, source?: YamlSource, top = '(top)'): ConfigReporter {
  const fail = (path: KeyPath, message: string): never => {
    throw configError(file, formatKeyPath(path, top), message, source?.lineOf(path));
  };
  return { fail, warn: fail };
}

/** The YAML step of an admin file; a syntax error is KAPLOY_CONFIG `FILE: not valid YAML: ...`. */
export function parseAdminYaml(text: string, file: string): YamlSource {
  const parsed = parseYamlSource(text);
  if (isYamlSyntaxError(parsed)) {
    const at = parsed.line === undefined ? '' : ` (line ${parsed.line})`;
    throw new KaployError('KAPLOY_CONFIG', `${file}: not valid YAML: ${parsed.message}${at}`, {
      file,
      ...(parsed.line === undefined ? {} : { line: parsed.line }),
    });
  }
  return parsed;
}
