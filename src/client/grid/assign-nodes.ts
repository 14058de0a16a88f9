/** Nodes of one server, in the server's own spelling of their names. */
export interface ServerNodes {
  server: string;
  nodes: string[];
}
export interface Assignment {
  /** Servers that will run a deployment, in configuration order. */
  deploy: ServerNodes[];
  /** Nodes of dropped servers (see below): reported KO, not deployed. */
  unreachable: ServerNodes[];
  /** Nodes no server claims: Kadeploy refuses the whole run for them. */
  leftovers: string[];
  /** Requested nodes that several live servers serve, with those servers: refused too. */
  ambiguous: { node: string; servers: string[] }[];
}

/**
 * Reference §1: each requested node goes to the server whose node list holds it; host names
 * compare case-insensitively, as DNS does. Kadeploy took the first server (configuration order)
 * when several serve a node; a node two sites both manage is a configuration mistake whichever
 * deploys it (the other may reboot it under the deployment), so such nodes are `ambiguous` and the
 * run is refused (docs/decisions/0013-grid-fan-out.md). Requested names that differ only by case
 * are one node, given once.
 *
 * A dropped server cannot say which nodes it serves. Grid'5000 names nodes after their site
 * (`gdx-5.orsay.grid5000.fr` belongs to server `orsay`), so a node no live server knows whose
 * domain names a dropped server is attributed to it: its site fails, the others keep going.
 * Any other node is a leftover.
 */
export function assignNodes(
  requested: readonly string[],
  live: readonly { name: string; nodes: readonly string[] }[],
  dropped: readonly string[],
): Assignment {
  const owner = new Map<string, { server: string; spelling: string; also: string[] }>();
  for (const s of live) {
    for (const n of s.nodes) {
      const k = n.toLowerCase();
      const o = owner.get(k);
      if (!o) owner.set(k, { server: s.name, spelling: n, also: [] });
      else if (o.server !== s.name && !o.also.includes(s.name)) o.also.push(s.name);
    }
  }
  const deploy = new Map<string, string[]>(live.map((s) => [s.name, []]));
  const unreachable = new Map<string, string[]>(dropped.map((s) => [s, []]));
  const leftovers: string[] = [];
  const ambiguous: Assignment['ambiguous'] = [];
  const seen = new Set<string>();
  for (const n of requested) {
    const k = n.toLowerCase();
    if (seen.has(k)) continue;
    seen.add(k);
    const o = owner.get(k);
    if (o && o.also.length > 0) {
      ambiguous.push({ node: o.spelling, servers: [o.server, ...o.also] });
      continue;
    }
    if (o) {
      deploy.get(o.server)?.push(o.spelling);
      continue;
    }
    const domain = n.toLowerCase().split('.').slice(1);
    const site = dropped.find((d) => domain.includes(d.toLowerCase()));
    if (site !== undefined) unreachable.get(site)?.push(n);
    else leftovers.push(n);
  }
  const nonEmpty = (m: Map<string, string[]>) =>
    [...m].filter(([, nodes]) => nodes.length > 0).map(([server, nodes]) => ({ server, nodes }));
  return { deploy: nonEmpty(deploy), unreachable: nonEmpty(unreachable), leftovers, ambiguous };
}
