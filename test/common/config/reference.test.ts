import { readFileSync } from 'node:fs';
import { describe, expect, it } from 'vitest';
import { configurationReference } from '../../../src/cli/config-reference.js';
import { renderReference } from '../../../src/common/config/reference.js';
import type { ConfigSchema } from '../../../src/common/config/schema-types.js';

describe('configuration reference', () => {
  it('documents every key with its type, default and meaning, a shared schema once', () => {
    const cmd: ConfigSchema = {
      type: 'object',
      properties: { argv: { type: 'array', items: { type: 'string' } } },
    };
    const text = renderReference('# Ref', [
      {
        title: 'T',
        intro: 'intro',
        schema: {
          type: 'object',
          required: ['a'],
          properties: {
            a: { type: 'integer', minimum: 1, maximum: 9, description: 'An a | pipe.' },
            b: { type: 'string', enum: ['x', 'y'], default: 'x' },
            l: { type: 'object', properties: { soft: cmd, hard: cmd } },
            m: {
              type: 'object',
              additionalProperties: { type: 'object', properties: { url: { type: 'string' } } },
            },
          },
        },
      },
    ]);
    expect(text).toContain('| `a` | integer 1..9 | required | An a \\| pipe. |');
    expect(text).toContain('| `b` | one of `x`, `y` | `"x"` |  |');
    expect(text).toContain('| `l.soft.argv` | list of string |  |  |');
    expect(text).toContain('| `l.hard` | mapping |  | as `l.soft` |');
    expect(text).toContain('| `m.NAME.url` | string |  |  |');
  });

  it('docs/configuration.md is the one the schemas generate (npm run config-ref)', () => {
    expect(readFileSync('docs/configuration.md', 'utf8')).toBe(configurationReference());
  });

  it('covers site, hooks, client and description keys', () => {
    const text = configurationReference();
    for (const key of [
      'wait_reboot.poll_ms',
      'clusters[].nodes[].addresses',
      'restore.alive_batch',
      'servers.NAME.token_file',
      'image.compression',
    ])
      expect(text).toContain(`| \`${key}\` |`);
  });
});
