import type { KeyPath } from './key-path.js';
import type { ConfigSchema } from './schema-types.js';

/** A key the schema does not describe, with the keys it does describe at that place. */
export interface UnknownKey {
  path: KeyPath;
  key: string;
  known: string[];
  /** The mapping schema's own wording (`message.additionalProperties`), e.g. for reboot levels. */
  message?: string;
}

/**
 * Every key of `data` the schema has no `properties` entry (nor an `additionalProperties` schema)
 * for. Run before the schema step so that each file kind decides: refused (admin files) or warned
 * (user descriptions, as Kadeploy does).
 */
export function findUnknownKeys(schema: ConfigSchema, data: unknown, path: KeyPath = []): UnknownKey[] {
  const out: UnknownKey[] = [];
  if (Array.isArray(data)) {
    const items = schema.items;
    if (items) data.forEach((v, i) => void out.push(...findUnknownKeys(items, v, [...path, i])));
    return out;
  }
  if (data === null || typeof data !== 'object') return out;
  const props = schema.properties;
  const extra = schema.additionalProperties;
  if (props === undefined && typeof extra !== 'object') return out;
  for (const [key, value] of Object.entries(data as Record<string, unknown>)) {
    const sub = props?.[key] ?? (typeof extra === 'object' ? extra : undefined);
    if (sub) {
      out.push(...findUnknownKeys(sub, value, [...path, key]));
      continue;
    }
    const message = typeof schema.message === 'object' ? schema.message.additionalProperties : undefined;
    out.push({ path, key, known: Object.keys(props ?? {}), ...(message ? { message } : {}) });
  }
  return out;
}
