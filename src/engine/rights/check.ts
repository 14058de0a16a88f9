import type { Store } from '../store/store.js';

/**
 * Rights checks for every operation on nodes. A right is (user, node|'*', partition|'*');
 * deployments ask for the deploy partition, reboots/power/console for any right on the node
 * (`partition` undefined).
 */
export function hasRight(store: Store, user: string, node: string, partition?: string): boolean {
  return store.rights
    .forUserNode(user, node)
    .some((r) => partition === undefined || r.partition === '*' || r.partition === partition);
}

export function checkRights(
  store: Store,
  user: string,
  nodes: readonly string[],
  partition?: string,
): { allowed: string[]; denied: string[] } {
  const allowed: string[] = [];
  const denied: string[] = [];
  for (const n of nodes) (hasRight(store, user, n, partition) ? allowed : denied).push(n);
  return { allowed, denied };
}
