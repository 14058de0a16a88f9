/**
 * Structured concurrency for the runner: every node group's work is spawned here, so none floats,
 * and `drain()` resolves once all of it (including work spawned while draining) has settled. The
 * first error thrown by a task is kept and rethrown by drain; `onError` lets the owner stop the rest.
 */
export class TaskGroup {
  private readonly running = new Set<Promise<void>>();
  private firstError: { e: unknown } | undefined;

  constructor(private readonly onError: (e: unknown) => void) {}

  spawn(task: () => Promise<void>): void {
    const p: Promise<void> = Promise.resolve()
      .then(task)
      .catch((e: unknown) => {
        if (!this.firstError) this.firstError = { e };
        this.onError(e);
      })
      .finally(() => {
        this.running.delete(p);
      });
    this.running.add(p);
  }

  async drain(): Promise<void> {
    while (this.running.size > 0) await Promise.all([...this.running]);
    if (this.firstError) throw this.firstError.e;
  }
}
