import { KaployError } from '../../common/errors.js';
import type { SiteConfig } from '../../common/site-config.js';
import { nodeIndex } from '../../common/site-config.js';
import { assertHostname } from '../../formats/node-names.js';

/** Partitions as Kadeploy names them (`/dev/sda3`), a partition number, or '*' (any). */
export const PARTITION_RE = /^(\*|\/dev\/[A-Za-z0-9_-]+(\/[A-Za-z0-9_-]+)*|\d{1,3})$/;

export function assertPartition(p: string): string {
  if (!PARTITION_RE.test(p)) {
    throw new KaployError(
      'KAPLOY_OPTION',
      `invalid partition '${p}': expected /dev/NAME, a partition number or '*'`,
    );
  }
  return p;
}

/** Node names for rights: '*' or names of this site's nodes (unknown ones are refused). */
export function assertSiteNodes(config: SiteConfig, nodes: readonly string[]): string[] {
  const known = nodeIndex(config);
  const unknown: string[] = [];
  for (const n of nodes) {
    if (n === '*') continue;
    assertHostname(n);
    if (!known.has(n)) unknown.push(n);
  }
  if (unknown.length > 0) {
    throw new KaployError(
      'KAPLOY_NODE_LIST',
      `unknown node(s) on site ${config.site}: ${unknown.join(', ')}`,
      { node: unknown[0] },
    );
  }
  return [...new Set(nodes)];
}
