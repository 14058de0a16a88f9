/** A key's place in a configuration document: mapping keys and list indexes, outermost first. */
export type KeyPath = readonly (string | number)[];

/** `clusters[0].nodes[3].address`; the empty path is the document itself (`top`). */
export function formatKeyPath(path: KeyPath, top = '(top)'): string {
  if (path.length === 0) return top;
  return path.map((p, i) => (typeof p === 'number' ? `[${p}]` : i === 0 ? p : `.${p}`)).join('');
}
