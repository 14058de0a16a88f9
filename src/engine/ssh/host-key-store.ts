/**
 * Where the engine pins node host keys. ssh2 accepts any host key unless told otherwise, so every
 * connection goes through `verify`; an unknown key is learnt only when the caller says the node has
 * just booted into the deployment environment (trust on first use), and a mismatch is never accepted.
 * `key` is the raw SSH public key blob (the base64-decoded middle field of a known_hosts line).
 */
export type HostKeyVerdict = 'match' | 'unknown' | 'mismatch';

export interface HostKeyStore {
  verify(node: string, key: Buffer): HostKeyVerdict;
  learn(node: string, key: Buffer): void;
}

/** In-memory store (tests, short-lived tools). One pinned key per node; `learn` replaces it. */
export class MemoryHostKeyStore implements HostKeyStore {
  private readonly keys = new Map<string, Buffer>();

  verify(node: string, key: Buffer): HostKeyVerdict {
    const known = this.keys.get(node);
    if (known === undefined) return 'unknown';
    return known.equals(key) ? 'match' : 'mismatch';
  }

  learn(node: string, key: Buffer): void {
    this.keys.set(node, Buffer.from(key));
  }

  /** Drops a node's pinned key, e.g. before it boots a system with a different host key. */
  forget(node: string): void {
    this.keys.delete(node);
  }

  get(node: string): Buffer | undefined {
    return this.keys.get(node);
  }
}
