/** JSON schema fragments shared by the routes (validation where input enters the engine). */
export const USER_PATTERN = '^[a-z_][a-z0-9_.-]{0,31}$';
export const ENV_NAME_PATTERN = '^[A-Za-z0-9][A-Za-z0-9._+-]{0,127}$';
export const ENV_PATTERN_PATTERN = '^[A-Za-z0-9%][A-Za-z0-9._+%-]{0,127}$';
export const NODE_PATTERN = '^(\\*|[A-Za-z0-9][A-Za-z0-9.-]{0,252})$';
export const PARTITION_PATTERN = '^(\\*|/dev/[A-Za-z0-9_-]+(/[A-Za-z0-9_-]+)*|[0-9]{1,3})$';
export const MD5_PATTERN = '^[0-9a-f]{32}$';

export const uploadsSchema = {
  type: 'array',
  maxItems: 64,
  items: {
    type: 'object',
    required: ['ref', 'path', 'md5'],
    additionalProperties: false,
    properties: {
      ref: { type: 'string', minLength: 1, maxLength: 4096 },
      path: { type: 'string', minLength: 1, maxLength: 4096, pattern: '^/[^\\n\\r\\u0000]*$' },
      md5: { type: 'string', pattern: MD5_PATTERN },
    },
  },
} as const;

export const descriptionBodySchema = {
  type: 'object',
  required: ['description'],
  additionalProperties: false,
  properties: {
    description: { type: 'string', maxLength: 262144 },
    file: { type: 'string', maxLength: 4096 },
    uploads: uploadsSchema,
  },
} as const;
