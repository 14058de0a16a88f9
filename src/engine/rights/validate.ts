import { KaployError } from '../../common/errors.js';
import { nodeIndex, type SiteConfig } from '../../common/site-config.js';
import { assertHostname } from '../../formats/node-names.js';

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
