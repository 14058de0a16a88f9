import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { MemoryHostKeyStore, SshPool, type SshTarget } from '../../../src/engine/ssh/index.js';
import { type Fixture, fixture } from './helpers/fixture.js';
import { generateKey } from './helpers/test-ssh-server.js';

describe('SshPool input validation', () => {
  let f: Fixture;
  beforeAll(async () => {
    f = await fixture();
  });
  afterAll(async () => {
    await f.close();
  });

  const bad: [string, Partial<SshTarget>][] = [
    ['empty node', { node: '' }],
    ['node with a newline', { node: 'node-1\nx' }],
    ['host with shell characters', { host: '127.0.0.1;reboot' }],
    ['empty host', { host: '' }],
    ['port 0', { port: 0 }],
    ['port 70000', { port: 70_000 }],
    ['fractional port', { port: 22.5 }],
    ['username with a space', { username: 'root x' }],
    ['username with a quote', { username: "ro'ot" }],
  ];
  for (const [what, patch] of bad) {
    it(`refuses a target with ${what} before connecting`, async () => {
      await expect(f.pool.exec({ ...f.target, ...patch }, 'true')).rejects.toMatchObject({
        code: 'KAPLOY_OPTION',
      });
      expect(f.server.stats.connections).toBe(0);
    });
  }

  it('refuses an empty command and a command with a NUL byte', async () => {
    await expect(f.pool.exec(f.target, '  ')).rejects.toMatchObject({ code: 'KAPLOY_OPTION' });
    await expect(f.pool.exec(f.target, 'echo a\0b')).rejects.toMatchObject({ code: 'KAPLOY_OPTION' });
  });

  it('refuses a non-positive or non-finite timeout', async () => {
    for (const timeoutMs of [0, -5, Number.NaN, Number.POSITIVE_INFINITY, 2 ** 31]) {
      await expect(f.pool.exec(f.target, 'true', { timeoutMs })).rejects.toMatchObject({
        code: 'KAPLOY_OPTION',
      });
    }
  });

  it('refuses a garbage key, a public key and bad pool options at construction', () => {
    const hostKeys = new MemoryHostKeyStore();
    expect(() => new SshPool({ privateKey: 'not a key', hostKeys })).toThrow(
      expect.objectContaining({ code: 'KAPLOY_CONFIG' }),
    );
    expect(() => new SshPool({ privateKey: generateKey().publicSsh, hostKeys })).toThrow(/public key/);
    const privateKey = generateKey().privateKey;
    for (const o of [
      { connectTimeoutMs: 0 },
      { maxChannelsPerConnection: 0 },
      { maxChannelsPerConnection: 1.5 },
    ]) {
      expect(() => new SshPool({ privateKey, hostKeys, ...o })).toThrow(
        expect.objectContaining({ code: 'KAPLOY_CONFIG' }),
      );
    }
  });
});
