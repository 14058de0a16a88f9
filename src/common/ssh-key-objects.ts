import { createPrivateKey, createPublicKey, type KeyObject, sign, verify } from 'node:crypto';
import type { ParsedKey } from 'ssh2';

/**
 * ssh2's parsed keys sign and verify from PEM text, parsing the key again at each SSH login (15x
 * the cost: see docs/decisions/0008-ed25519-keyobjects.md). This makes an Ed25519 key's `sign`
 * and `verify` use KeyObjects made once (the same signatures: Ed25519 is deterministic). Other key
 * types, and calls naming a hash algorithm, keep ssh2's own methods. Returns the same object.
 */
export function withKeyObjects<K extends ParsedKey>(key: K): K {
  if (key.type !== 'ssh-ed25519') return key;
  const sign0 = key.sign.bind(key);
  const verify0 = key.verify.bind(key);
  const privPem = key.isPrivateKey() ? key.getPrivatePEM() : null;
  const priv: KeyObject | undefined = privPem ? createPrivateKey(privPem) : undefined;
  const pub: KeyObject = createPublicKey(key.getPublicPEM());
  key.sign = (data, algo) => {
    if (!priv || algo) return sign0(data, algo);
    try {
      return sign(null, typeof data === 'string' ? Buffer.from(data) : data, priv);
    } catch (e) {
      return e as Buffer; // as ssh2: the error is returned, not thrown
    }
  };
  key.verify = (data, signature, algo) => {
    if (algo) return verify0(data, signature, algo);
    try {
      return verify(null, typeof data === 'string' ? Buffer.from(data) : data, pub, signature);
    } catch (e) {
      return e as boolean; // as ssh2: the error is returned, not thrown
    }
  };
  return key;
}
