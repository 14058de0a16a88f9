import type { MicroStep } from './types.js';

/**
 * Whether a micro-step may be run again on a node that was in the middle of it when the engine
 * stopped (durable workflows, docs/decisions/0033-durable-workflows.md, the table in
 * docs/engine.md). Safe: running it again gives the same node as running it once (it rewrites
 * what it writes, or only waits, probes or reboots). Unsafe: it runs a script nobody promised to be
 * idempotent; a node known to have entered one when the engine stopped fails with the reason here.
 */
const UNSAFE: Partial<Record<MicroStep, string>> = {
  manage_preinstall: "the environment's preinstall script may not be run twice",
  manage_admin_post_install: "the site's admin postinstall may not be run twice",
  manage_user_post_install: "the environment's postinstall may not be run twice",
};

/** Why `micro` cannot be redone after an engine restart, or undefined when it can. */
export function redoRefusal(micro: MicroStep): string | undefined {
  return UNSAFE[micro];
}
