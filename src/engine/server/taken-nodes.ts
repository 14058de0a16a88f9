/**
 * Nodes another operation took from a running one with --force, per operation: node -> why
 * (`taken by <user>'s deployment <wid> (--force)`). Held while the operation is registered, so
 * its workflow ends those nodes with that reason instead of whatever the taker's reboot does to
 * its SSH connections (src/engine/operations/preemption.ts).
 */
export class TakenNodes {
  readonly #reasons = new Map<string, Map<string, string>>();
  readonly #listeners = new Map<string, Set<(nodes: readonly string[]) => void>>();

  /** Marks `nodes` of operation `wid` taken (a node taken already keeps its first reason). */
  take(wid: string, nodes: readonly string[], reason: string): void {
    const m = this.#reasons.get(wid) ?? new Map<string, string>();
    this.#reasons.set(wid, m);
    const fresh = nodes.filter((n) => !m.has(n));
    for (const n of fresh) m.set(n, reason);
    if (fresh.length === 0) return;
    for (const l of this.#listeners.get(wid) ?? []) l(fresh);
  }

  reason(wid: string, node: string): string | undefined {
    return this.#reasons.get(wid)?.get(node);
  }

  /** Calls `listener` with the nodes taken from `wid` from now on; returns how to stop. */
  onTaken(wid: string, listener: (nodes: readonly string[]) => void): () => void {
    const s = this.#listeners.get(wid) ?? new Set<(nodes: readonly string[]) => void>();
    this.#listeners.set(wid, s);
    s.add(listener);
    return () => {
      s.delete(listener);
      if (s.size === 0 && this.#listeners.get(wid) === s) this.#listeners.delete(wid);
    };
  }

  /** The operation ended: nothing of it is kept. */
  forget(wid: string): void {
    this.#reasons.delete(wid);
    this.#listeners.delete(wid);
  }
}
