import type { Level } from '../../common/site-config-types.js';

/**
 * The reboot level each node was last sent, shared by reboot and wait_reboot so that a node which
 * did not come back is escalated (soft -> hard -> very_hard) from where it is. Cleared for a node
 * that came back.
 */
export class RebootState {
  private readonly levels = new Map<string, Level>();
  set(node: string, level: Level): void {
    this.levels.set(node, level);
  }
  get(node: string): Level | undefined {
    return this.levels.get(node);
  }
  clear(node: string): void {
    this.levels.delete(node);
  }
}
