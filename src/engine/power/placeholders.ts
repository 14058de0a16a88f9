import type { NodeConfig } from '../../common/site-config-types.js';

/** Values of the {node} {short} {address} {cluster} {site} placeholders of a hardware command. */
export function nodeVars(site: string, node: NodeConfig): Record<string, string> {
  return {
    node: node.name,
    short: node.name.split('.')[0] ?? node.name,
    address: node.address,
    cluster: node.cluster,
    site,
  };
}
