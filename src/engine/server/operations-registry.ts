import { TakenNodes } from './taken-nodes.js';

/**
 * Operations running in this engine (deployments, reboots, power, consoles). Each registers when it
 * starts and unregisters when done, so that revoking a user's rights can end exactly the
 * operations that user runs on those nodes.
 */
export type OperationKind = 'deploy' | 'reboot' | 'power' | 'console';

export interface RunningOperation {
  wid: string;
  kind: OperationKind;
  user: string;
  nodes: string[];
  cancel(reason: string): void;
}

export class OperationRegistry {
  readonly #ops = new Map<string, RunningOperation>();
  /** Nodes taken from running operations by another's --force (src/engine/operations/preemption.ts). */
  readonly taken = new TakenNodes();

  /** Registers an operation; returns the function that unregisters it. */
  register(op: RunningOperation): () => void {
    this.#ops.set(op.wid, op);
    return () => this.unregister(op.wid);
  }

  unregister(wid: string): void {
    this.#ops.delete(wid);
    this.taken.forget(wid);
  }

  get(wid: string): RunningOperation | undefined {
    return this.#ops.get(wid);
  }

  list(): RunningOperation[] {
    return [...this.#ops.values()];
  }

  /**
   * Cancels every operation of `user` touching one of `nodes` ('*' = any node); returns their
   * workflow ids. An operation is cancelled as a whole: its nodes are one unit of work.
   */
  cancelFor(user: string, nodes: readonly string[], reason: string): string[] {
    const all = nodes.includes('*');
    const set = new Set(nodes);
    const hit: string[] = [];
    for (const op of this.list()) {
      if (op.user !== user) continue;
      if (!all && !op.nodes.some((n) => set.has(n))) continue;
      hit.push(op.wid);
      op.cancel(reason);
    }
    return hit;
  }

  /** Cancels everything (engine shutdown). */
  cancelAll(reason: string): void {
    for (const op of this.list()) op.cancel(reason);
  }
}
