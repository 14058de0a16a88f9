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
}

/**
 * Reference §1: each requested node goes to the first server (configuration order) whose node
 * list holds it; host names compare case-insensitively, as DNS does.
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
  const owner = new Map<string, { server: string; spelling: string }>();
  for (const s of live) {
    for (const n of s.nodes) {
      const k = n.toLowerCase();
      if (!owner.has(k)) owner.set(k, { server: s.name, spelling: n });
    }
  }
  const deploy = new Map<string, string[]>(live.map((s) => [s.name, []]));
  const unreachable = new Map<string, string[]>(dropped.map((s) => [s, []]));
  const leftovers: string[] = [];
  for (const n of requested) {
    const o = owner.get(n.toLowerCase());
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
  return { deploy: nonEmpty(deploy), unreachable: nonEmpty(unreachable), leftovers };
}
