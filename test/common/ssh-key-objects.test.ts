import { execFileSync } from 'node:child_process';
import { mkdtempSync, readFileSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import ssh2, { type ParsedKey } from 'ssh2';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { withKeyObjects } from '../../src/common/ssh-key-objects.js';

const parse = (text: Buffer | string) => ssh2.utils.parseKey(text) as ParsedKey;

describe('withKeyObjects', () => {
  let dir: string;
  const keyFile = (type: string) => {
    const f = join(dir, type);
    execFileSync('ssh-keygen', [
      '-q',
      '-t',
      type,
      ...(type === 'rsa' ? ['-b', '2048'] : []),
      '-N',
      '',
      '-f',
      f,
    ]);
    return { priv: readFileSync(f), pub: readFileSync(`${f}.pub`, 'utf8') };
  };
  beforeAll(() => {
    dir = mkdtempSync(join(tmpdir(), 'kaploy-keyobj-'));
  });
  afterAll(() => rmSync(dir, { recursive: true, force: true }));

  it('an Ed25519 key signs and verifies exactly as ssh2 does', () => {
    const { priv, pub } = keyFile('ed25519');
    const plain = parse(priv);
    const fast = withKeyObjects(parse(priv));
    const data = Buffer.from('exchange hash');
    expect(fast.sign(data)).toEqual(plain.sign(data)); // Ed25519 is deterministic
    expect(fast.sign('text')).toEqual(plain.sign('text'));
    const pubKey = withKeyObjects(parse(pub));
    expect(pubKey.verify(data, plain.sign(data))).toBe(true);
    const bad = Buffer.from(plain.sign(data));
    bad[0] = (bad[0] as number) ^ 1;
    expect(pubKey.verify(data, bad)).toBe(false);
    expect(pubKey.verify(Buffer.from('other'), plain.sign(data))).toBe(false);
    // A public key cannot sign: ssh2's own answer (an Error value).
    expect(pubKey.sign(data)).toBeInstanceOf(Error);
    // Malformed signatures come back as values, never thrown.
    expect(() => pubKey.verify(data, Buffer.alloc(3))).not.toThrow();
  });

  it('leaves other key types to ssh2', () => {
    const { priv } = keyFile('rsa');
    const k = parse(priv);
    const { sign, verify } = k;
    expect(withKeyObjects(k)).toBe(k);
    expect(k.sign).toBe(sign);
    expect(k.verify).toBe(verify);
  });
});
