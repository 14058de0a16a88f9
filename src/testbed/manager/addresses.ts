/**
 * Names and loopback addresses of a virtual site's nodes. Linux routes all of 127/8 to loopback,
 * so each node binds its own address. The second byte is derived from the site name so that two
 * sites started side by side do not collide.
 */
export function siteByte(site: string): number {
  let h = 0x811c9dc5; // FNV-1a: stable across runs and machines
  for (const ch of Buffer.from(site)) {
    h ^= ch;
    h = Math.imul(h, 0x01000193) >>> 0;
  }
  return 10 + (h % 241); // 10..250
}

export const clusterName = (site: string) => `${site}-c1`;

/** Node i counts from 1, as in OAR node files. */
const nodeName = (site: string, i: number, domain?: string) =>
  `node-${i}.${site}${domain === undefined ? '' : `.${domain}`}`;

export function nodeAddress(siteB: number, i: number): string {
  const k = i - 1;
  return `127.${siteB}.${Math.floor(k / 250)}.${(k % 250) + 1}`;
}

export interface PlannedNode {
  index: number;
  name: string;
  address: string;
}

export function planNodes(site: string, count: number, domain?: string): PlannedNode[] {
  const b = siteByte(site);
  return Array.from({ length: count }, (_, j) => ({
    index: j + 1,
    name: nodeName(site, j + 1, domain),
    address: nodeAddress(b, j + 1),
  }));
}
