import { describe, expect, it } from 'vitest';
import { nearestKey } from '../../../src/common/config/did-you-mean.js';
import { formatKeyPath } from '../../../src/common/config/key-path.js';
import { adminReporter, checkAgainstSchema, parseAdminYaml } from '../../../src/common/config/pipeline.js';
import { compileSchema } from '../../../src/common/config/schema.js';
import type { ConfigSchema } from '../../../src/common/config/schema-types.js';
import { findUnknownKeys } from '../../../src/common/config/unknown-keys.js';

const SCHEMA: ConfigSchema = {
  type: 'object',
  required: ['name'],
  additionalProperties: false,
  properties: {
    name: { type: 'string' },
    port: { type: 'integer', minimum: 1, maximum: 9, default: 5 },
    mode: { type: 'string', enum: ['a', 'b'], message: { 'enum:c': 'c is gone: expected a or b' } },
    items: {
      type: 'array',
      items: { type: 'object', additionalProperties: false, properties: { id: { type: 'integer' } } },
    },
    byName: {
      type: 'object',
      additionalProperties: { type: 'object', properties: { url: { type: 'string' } } },
    },
  },
};

const run = (text: string, policy: 'refuse' | 'warn' = 'refuse') => {
  const source = parseAdminYaml(text, 'f.yaml');
  checkAgainstSchema(
    compileSchema(SCHEMA, { useDefaults: true }),
    source.data,
    policy,
    adminReporter('f.yaml', source),
  );
  return source.data;
};

describe('configuration pipeline (shared module)', () => {
  it('formats key paths', () => {
    expect(formatKeyPath(['clusters', 'c1', 'nodes', 3, 'address'])).toBe('clusters.c1.nodes[3].address');
    expect(formatKeyPath([], '(top level)')).toBe('(top level)');
  });

  it('suggests the nearest known key for a near miss only', () => {
    expect(nearestKey('wait_reboto', ['wait_reboot', 'windows'])).toBe('wait_reboot');
    expect(nearestKey('wiat_reboot', ['wait_reboot'])).toBe('wait_reboot');
    expect(nearestKey('colour', ['name', 'image'])).toBeUndefined();
  });

  it('finds unknown keys in mappings, lists and name-keyed mappings', () => {
    const data = { name: 'x', bogus: 1, items: [{ id: 1, idd: 2 }], byName: { s: { url: 'u', uri: 'v' } } };
    expect(findUnknownKeys(SCHEMA, data).map((u) => formatKeyPath([...u.path, u.key]))).toEqual([
      'bogus',
      'items[0].idd',
      'byName.s.uri',
    ]);
  });

  it('fills defaults and reports each kind of problem with file, key and line', () => {
    expect(run('name: x\n')).toEqual({ name: 'x', port: 5 });
    expect(() => run('name: x\nport: 10\n')).toThrow(
      'f.yaml: port: expected an integer from 1 to 9 (line 2)',
    );
    expect(() => run('name: x\nport: two\n')).toThrow('f.yaml: port: expected an integer (line 2)');
    expect(() => run('port: 3\n')).toThrow('f.yaml: name: is mandatory (line 1)');
    expect(() => run('name: x\nmode: z\n')).toThrow("f.yaml: mode: 'z' is not valid: expected one of a, b");
    expect(() => run('name: x\nmode: c\n')).toThrow('f.yaml: mode: c is gone: expected a or b');
    expect(() => run('name: x\nitems:\n  - id: 1\n  - idd: 2\n')).toThrow(
      'f.yaml: items[1].idd: unknown key; did you mean id? (known: id) (line 4)',
    );
    expect(() => run('name: [x\n')).toThrow(/^f\.yaml: not valid YAML: .* \(line 2\)$/);
    expect(() => run('name: x\nname: y\n')).toThrow(/f\.yaml: not valid YAML: Map keys must be unique/);
  });

  it('reports the problem of the key documented first, whatever order they are found in', () => {
    expect(() => run('mode: z\nport: 99\n')).toThrow('f.yaml: name: is mandatory');
    expect(() => run('name: x\nmode: z\nport: 99\n')).toThrow(
      'f.yaml: port: expected an integer from 1 to 9',
    );
  });

  it('carries file, key and line in the error fields', () => {
    try {
      run('name: x\n\nport: 0\n');
    } catch (e) {
      expect(e).toMatchObject({ code: 'KAPLOY_CONFIG', fields: { file: 'f.yaml', key: 'port', line: 3 } });
      return;
    }
    throw new Error('expected a configuration error');
  });
});
