/**
 * The body of POST /deployment, as kadeploy3 sends it. Validated by the route's JSON schema
 * (DEPLOY_REQUEST_SCHEMA) where it enters the engine, then by the service for cross-field rules.
 */
export type EnvironmentRef =
  | { kind: 'recorded'; name: string; user?: string; version?: number }
  | {
      kind: 'anonymous';
      description: string;
      file: string;
      uploads: { ref: string; path: string; md5: string }[];
    };

export interface DeployRequest {
  nodes: string[];
  environment: EnvironmentRef;
  /** authorized_keys text to install for root (-k). */
  keys?: string;
  partition?: number;
  blockDevice?: string;
  forceSteps?: string;
  breakpoint?: string;
  rebootClassicalTimeout?: string;
  rebootKexecTimeout?: string;
  noKexec?: boolean;
  disableBootloaderInstall?: boolean;
  disableDiskPartitioning?: boolean;
  reformatTmp?: string;
  vlan?: string;
  force?: boolean;
  debug?: boolean;
}

const exprPattern = '^[0-9n+\\-*/^(). a-z,]{1,200}$';

export const DEPLOY_REQUEST_SCHEMA = {
  type: 'object',
  additionalProperties: false,
  required: ['nodes', 'environment'],
  properties: {
    nodes: {
      type: 'array',
      minItems: 1,
      maxItems: 100000,
      items: { type: 'string', pattern: '^[A-Za-z0-9][A-Za-z0-9.-]{0,252}$' },
    },
    environment: {
      oneOf: [
        {
          type: 'object',
          additionalProperties: false,
          required: ['kind', 'name'],
          properties: {
            kind: { const: 'recorded' },
            name: { type: 'string', minLength: 1, maxLength: 200 },
            user: { type: 'string', pattern: '^\\w+$' },
            version: { type: 'integer', minimum: 1 },
          },
        },
        {
          type: 'object',
          additionalProperties: false,
          required: ['kind', 'description', 'file', 'uploads'],
          properties: {
            kind: { const: 'anonymous' },
            description: { type: 'string', minLength: 1, maxLength: 1_000_000 },
            file: { type: 'string', maxLength: 4096 },
            uploads: {
              type: 'array',
              maxItems: 100,
              items: {
                type: 'object',
                additionalProperties: false,
                required: ['ref', 'path', 'md5'],
                properties: {
                  ref: { type: 'string', maxLength: 4096 },
                  path: { type: 'string', maxLength: 4096 },
                  md5: { type: 'string', pattern: '^[0-9a-f]{32}$' },
                },
              },
            },
          },
        },
      ],
    },
    keys: { type: 'string', maxLength: 1_000_000 },
    partition: { type: 'integer', minimum: 1, maximum: 128 },
    blockDevice: { type: 'string', pattern: '^/dev/[a-z0-9/]+$' },
    forceSteps: { type: 'string', maxLength: 2000 },
    breakpoint: { type: 'string', pattern: '^\\w+(?::\\w+)?$' },
    rebootClassicalTimeout: { type: 'string', pattern: exprPattern },
    rebootKexecTimeout: { type: 'string', pattern: exprPattern },
    noKexec: { type: 'boolean' },
    disableBootloaderInstall: { type: 'boolean' },
    disableDiskPartitioning: { type: 'boolean' },
    reformatTmp: { type: 'string', pattern: '^[a-z0-9]{1,16}$' },
    vlan: { type: 'string', pattern: '^[0-9]{1,4}$' },
    force: { type: 'boolean' },
    debug: { type: 'boolean' },
  },
} as const;
