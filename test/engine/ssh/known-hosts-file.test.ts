import { execFileSync } from 'node:child_process';
import { createHmac, randomBytes } from 'node:crypto';
import { mkdtempSync, readFileSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { afterEach, beforeEach, describe, expect, it } from 'vitest';
import { KnownHostsFile, keyTypeOf } from '../../../src/engine/ssh/index.js';
import { newEd25519, publicBlobOf } from './helpers/test-ssh-server.js';

const newKey = () => publicBlobOf(newEd25519().private);

describe('KnownHostsFile', () => {
  let dir: string;
  let path: string;
  beforeEach(() => {
    dir = mkdtempSync(join(tmpdir(), 'kaploy-kh-'));
    path = join(dir, 'known_hosts');
  });
  afterEach(() => rmSync(dir, { recursive: true, force: true }));

  it('starts empty when the file does not exist, learns, and persists OpenSSH lines', () => {
    const k = newKey();
    const store = new KnownHostsFile(path);
    expect(store.verify('node-1.site', k)).toBe('unknown');
    store.learn('node-1.site', k);
    expect(readFileSync(path, 'utf8')).toBe(`node-1.site ssh-ed25519 ${k.toString('base64')}\n`);
    expect(new KnownHostsFile(path).verify('node-1.site', k)).toBe('match');
    expect(new KnownHostsFile(path).verify('node-1.site', newKey())).toBe('mismatch');
    expect(new KnownHostsFile(path).verify('node-2.site', k)).toBe('unknown');
  });

  it('writes and matches the [host]:port form when a port is configured', () => {
    const k = newKey();
    new KnownHostsFile(path, { port: 2222 }).learn('node-1', k);
    expect(readFileSync(path, 'utf8')).toBe(`[node-1]:2222 ssh-ed25519 ${k.toString('base64')}\n`);
    expect(new KnownHostsFile(path, { port: 2222 }).verify('node-1', k)).toBe('match');
    expect(new KnownHostsFile(path, { port: 22 }).verify('node-1', k)).toBe('unknown');
    // Without a configured port, a [node]:port pin written by someone else still applies.
    expect(new KnownHostsFile(path).verify('node-1', k)).toBe('match');
  });

  it('reads comma-separated names, hashed names, comments and markers; keeps unrelated lines', () => {
    const k1 = newKey();
    const k2 = newKey();
    const salt = randomBytes(20);
    const hash = createHmac('sha1', salt).update('node-2').digest('base64');
    const text = [
      '# pins',
      `node-1,127.0.0.2 ssh-ed25519 ${k1.toString('base64')} comment here`,
      `|1|${salt.toString('base64')}|${hash} ssh-ed25519 ${k2.toString('base64')}`,
      `@cert-authority *.site ssh-ed25519 ${k2.toString('base64')}`,
      'garbage line',
      '',
    ].join('\n');
    writeFileSync(path, text);
    const store = new KnownHostsFile(path);
    expect(store.verify('node-1', k1)).toBe('match');
    expect(store.verify('127.0.0.2', k1)).toBe('match');
    expect(store.verify('node-2', k2)).toBe('match');
    expect(store.verify('node-2', k1)).toBe('mismatch');
    // The @cert-authority line is not a pin for node-3.
    expect(store.verify('node-3.site', k2)).toBe('unknown');
    store.learn('node-3', k1);
    expect(readFileSync(path, 'utf8')).toBe(`${text}node-3 ssh-ed25519 ${k1.toString('base64')}\n`);
  });

  it('learn replaces a node pin; forget drops it', () => {
    const store = new KnownHostsFile(path);
    const [a, b] = [newKey(), newKey()];
    store.learn('node-1', a);
    store.learn('node-2', a);
    store.learn('node-1', b);
    expect(store.verify('node-1', b)).toBe('match');
    expect(store.verify('node-1', a)).toBe('mismatch');
    expect(readFileSync(path, 'utf8').split('\n').filter(Boolean)).toHaveLength(2);
    store.forget('node-1');
    expect(new KnownHostsFile(path).verify('node-1', b)).toBe('unknown');
    expect(new KnownHostsFile(path).verify('node-2', a)).toBe('match');
  });

  it('honours negated patterns and ignores a line whose key type disagrees with its blob', () => {
    const k = newKey();
    writeFileSync(
      path,
      `node-1,!node-1 ssh-ed25519 ${k.toString('base64')}\nnode-2 ssh-rsa ${k.toString('base64')}\n`,
    );
    const store = new KnownHostsFile(path);
    expect(store.verify('node-1', k)).toBe('unknown');
    expect(store.verify('node-2', k)).toBe('unknown');
  });

  it('is readable by OpenSSH: ssh-keygen -F finds the learnt key', () => {
    const k = newKey();
    new KnownHostsFile(path, { port: 2222 }).learn('node-7.site', k);
    const out = execFileSync('ssh-keygen', ['-F', '[node-7.site]:2222', '-f', path], { encoding: 'utf8' });
    expect(out).toContain(k.toString('base64'));
  });

  it('reads a file written by ssh-keyscan-like tools for an ssh-keygen generated key', () => {
    execFileSync('ssh-keygen', ['-q', '-t', 'ed25519', '-N', '', '-f', join(dir, 'hk')]);
    const pub = readFileSync(join(dir, 'hk.pub'), 'utf8').trim().split(' ');
    writeFileSync(path, `node-1 ${pub[0]} ${pub[1]}\n`);
    const blob = Buffer.from(pub[1] ?? '', 'base64');
    expect(keyTypeOf(blob)).toBe('ssh-ed25519');
    expect(new KnownHostsFile(path).verify('node-1', blob)).toBe('match');
  });

  it('refuses an invalid port and reports an unreadable file with its path', () => {
    expect(() => new KnownHostsFile(path, { port: 0 })).toThrow(
      expect.objectContaining({ code: 'KAPLOY_CONFIG' }),
    );
    expect(() => new KnownHostsFile(dir)).toThrow(expect.objectContaining({ code: 'KAPLOY_FILE' }));
  });
});
