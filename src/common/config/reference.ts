import type { ConfigSchema } from './schema-types.js';

/** One file kind of the configuration reference: its schema and what to say before the table. */
export interface ReferenceSection {
  title: string;
  intro: string;
  schema: ConfigSchema;
}

/**
 * docs/configuration.md, generated from the schemas the files are checked against, so the
 * reference cannot drift from what is accepted (`npm run config-ref -- --check` in CI).
 */
export function renderReference(preamble: string, sections: readonly ReferenceSection[]): string {
  const out = [preamble.trim(), ''];
  for (const s of sections) {
    out.push(
      `## ${s.title}`,
      '',
      s.intro.trim(),
      '',
      '| key | type | default | meaning |',
      '|---|---|---|---|',
    );
    const seen = new Map<ConfigSchema, string>();
    for (const row of rows(s.schema, '', seen)) out.push(`| ${row.map(cell).join(' | ')} |`);
    out.push('');
  }
  return `${out.join('\n').trimEnd()}\n`;
}

function rows(s: ConfigSchema, prefix: string, seen: Map<ConfigSchema, string>): string[][] {
  const out: string[][] = [];
  const children: [string, ConfigSchema, boolean][] = [];
  const required = new Set(s.required ?? []);
  for (const [k, sub] of Object.entries(s.properties ?? {})) children.push([k, sub, required.has(k)]);
  if (typeof s.additionalProperties === 'object') children.push(['NAME', s.additionalProperties, false]);
  for (const [k, sub, req] of children) {
    const key = prefix === '' ? k : `${prefix}.${k}`;
    const first = seen.get(sub);
    if (first !== undefined) {
      out.push([`\`${key}\``, typeOf(sub), defaultOf(sub, req), `as \`${first}\``]);
      continue;
    }
    seen.set(sub, key);
    out.push([`\`${key}\``, typeOf(sub), defaultOf(sub, req), sub.description ?? '']);
    // A list of mappings documents its items' keys as `key[].sub`.
    const inner =
      sub.items?.properties || typeof sub.items?.additionalProperties === 'object' ? sub.items : sub;
    const innerKey = inner === sub ? key : `${key}[]`;
    if (inner && (inner.properties || typeof inner.additionalProperties === 'object'))
      out.push(...rows(inner, innerKey, seen));
  }
  return out;
}

const TYPE_NAMES: Record<string, string> = {
  object: 'mapping',
  array: 'list',
  string: 'string',
  integer: 'integer',
  number: 'number',
  boolean: 'boolean',
};

function typeOf(s: ConfigSchema): string {
  if (s.typeText !== undefined) return s.typeText;
  if (s.enum) return `one of ${s.enum.map((v) => `\`${String(v)}\``).join(', ')}`;
  const types = (Array.isArray(s.type) ? s.type : s.type ? [s.type] : []).map((t) => TYPE_NAMES[t] ?? t);
  let t = types.join(' or ') || 'any';
  if (s.type === 'array' && s.items) t = `list of ${typeOf(s.items)}`;
  const lo = s.minimum ?? s.exclusiveMinimum;
  if (lo !== undefined && s.maximum !== undefined) t += ` ${lo}..${s.maximum}`;
  else if (lo !== undefined) t += ` ≥ ${lo}`;
  if (s.minItems === 1 || s.minProperties === 1) t = `non-empty ${t}`;
  return t;
}

function defaultOf(s: ConfigSchema, required: boolean): string {
  if (s.defaultText !== undefined) return s.defaultText;
  if (required) return 'required';
  if (s.default === undefined) return '';
  if (
    typeof s.default === 'object' &&
    s.default !== null &&
    Object.keys(s.default).length === 0 &&
    !Array.isArray(s.default)
  )
    return '';
  return `\`${JSON.stringify(s.default)}\``;
}

function cell(text: string): string {
  return text.replaceAll('|', '\\|').replaceAll('\n', ' ');
}
