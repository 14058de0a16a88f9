/**
 * The JSON Schema subset the configuration files are described with, plus one annotation of ours:
 * `message`, what to tell the user when a value fails this schema (a string for every keyword but
 * `required`, or one string per keyword; `{value}`, `{minimum}`, `{maximum}` are substituted).
 * `description` and `default` also feed the generated reference (docs/configuration.md).
 */
export interface ConfigSchema {
  type?: SchemaType | SchemaType[];
  description?: string;
  default?: unknown;
  properties?: Record<string, ConfigSchema>;
  additionalProperties?: boolean | ConfigSchema;
  required?: string[];
  items?: ConfigSchema;
  enum?: readonly unknown[];
  pattern?: string;
  minimum?: number;
  maximum?: number;
  exclusiveMinimum?: number;
  minLength?: number;
  minItems?: number;
  minProperties?: number;
  message?: string | Partial<Record<string, string>>;
  /** Shown in the reference instead of the type when the schema's types say it badly (loose text). */
  typeText?: string;
  /** Shown in the reference instead of `default` when the default is computed (e.g. from the site). */
  defaultText?: string;
}

export type SchemaType = 'object' | 'array' | 'string' | 'integer' | 'number' | 'boolean' | 'null';
