import { LEVELS, type Level } from '../common/site-config-types.js';

const POWER_ACTIONS = ['on', 'off', 'status'] as const;
export type PowerAction = (typeof POWER_ACTIONS)[number];

/** PUT /power body (kapower3 --on|--off|--status). */
export interface PowerRequest {
  action: PowerAction;
  nodes: string[];
  level?: Level;
  force?: boolean;
  debug?: boolean;
}

export const POWER_IMPL: Record<PowerAction, string> = { on: 'On', off: 'Off', status: 'Status' };

export const POWER_REQUEST_SCHEMA = {
  type: 'object',
  additionalProperties: false,
  required: ['action', 'nodes'],
  properties: {
    action: { type: 'string', enum: [...POWER_ACTIONS] },
    nodes: {
      type: 'array',
      minItems: 1,
      maxItems: 10_000,
      items: { type: 'string', minLength: 1, maxLength: 255, pattern: '^[A-Za-z0-9.-]+$' },
    },
    level: { type: 'string', enum: [...LEVELS] },
    force: { type: 'boolean' },
    debug: { type: 'boolean' },
  },
} as const;
