import type { HostKeyStore } from '../ssh/index.js';
import type { KnownHostsRepo } from '../store/known-hosts-repo.js';

/**
 * The engine's known-hosts store, in its SQLite store: a node's key is learnt when it boots into
 * the deployment environment (trust on first use there) and pinned from then on, across restarts.
 */
export class StoreHostKeys implements HostKeyStore {
  constructor(private readonly repo: KnownHostsRepo) {}

  verify(node: string, key: Buffer): 'match' | 'unknown' | 'mismatch' {
    const known = this.repo.get(node);
    if (known === undefined) return 'unknown';
    return known === key.toString('base64') ? 'match' : 'mismatch';
  }

  learn(node: string, key: Buffer): void {
    this.repo.set(node, key.toString('base64'));
  }
}
