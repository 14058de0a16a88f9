import type { WorkflowEvent } from './events.js';
import { foldNodes } from './fold-nodes.js';
import type { Implementation } from './types.js';

export interface RenderOptions {
  /** kadeploy3 -d: print the per-node debug output. */
  debug?: boolean;
}

const step = (impl: Implementation) => `Deploy[${impl}]`;
const secs = (ms: number) => `${Math.floor(ms / 1000)}s`;

/**
 * Kadeploy-style log lines for one event at a verbosity (0..5, default 3 in kadeploy3), following
 * reference §1: 0 launch/end, cancellations; 1 macro-step start/end, failures, splits, timeouts,
 * retries and fallbacks; 2 breakpoints and `!!! The nodes … failed on step`; 3 micro-step names and
 * the micro-steps' notes (reboot kinds, broadcast time); 4 `~ Time in <Impl>-<micro>: Ns`; 5 bypassed
 * micro-steps. Returns no line when the event is below the verbosity.
 */
export function renderEvent(ev: WorkflowEvent, verbosity: number, opts: RenderOptions = {}): string[] {
  const out: string[] = [];
  const at = (level: number, line: string) => {
    if (verbosity >= level) out.push(line);
  };
  switch (ev.kind) {
    case 'workflow_start':
      for (const note of ev.notes) at(0, note);
      at(0, `Launching a deployment on ${foldNodes(ev.nodes)}`);
      break;
    case 'macro_start':
      at(1, `Performing a ${step(ev.impl)} step`);
      for (const b of ev.bypassed) at(5, ` * Bypassing the step ${step(ev.impl)}-${b.micro} (${b.why})`);
      break;
    case 'macro_end':
      at(1, `End of step ${step(ev.impl)} after ${secs(ev.durationMs)}`);
      break;
    case 'micro_start':
      at(3, `  ${ev.micro}`);
      break;
    case 'micro_end':
      at(4, `~ Time in ${ev.impl}-${ev.micro}: ${secs(ev.durationMs)}`);
      break;
    case 'nodes_ko':
      at(2, `!!! The nodes ${foldNodes(ev.nodes)} failed on step ${ev.micro}: ${ev.reason}`);
      at(1, `Step ${step(ev.impl)} failed for ${foldNodes(ev.nodes)} after ${secs(ev.durationMs)}`);
      break;
    case 'split':
      at(1, '---');
      at(1, 'Nodeset split into :');
      at(1, `  ${foldNodes(ev.continuing)}`);
      at(1, `  ${foldNodes(ev.others)}`);
      at(1, '---');
      break;
    case 'retry':
      at(
        1,
        `Retrying the step ${step(ev.impl)} on ${foldNodes(ev.nodes)} (retry ${ev.attempt}/${ev.retries})`,
      );
      break;
    case 'fallback':
      at(1, `Falling back from ${step(ev.from)} to ${step(ev.to)} for ${foldNodes(ev.nodes)}`);
      break;
    case 'timeout':
      at(
        1,
        `Timeout in ${step(ev.impl)} after ${ev.timeoutSec}s before the end of the step, let's kill the instance (${foldNodes(ev.nodes)})`,
      );
      break;
    case 'breakpoint':
      at(2, `*** Breakpoint on ${ev.micro} reached for ${foldNodes(ev.nodes)}`);
      at(1, `Step ${step(ev.impl)} breakpointed`);
      // Kadeploy's workflow says it too, once the nodes are held there.
      at(1, `Breakpoint reached for ${foldNodes(ev.nodes)}`);
      break;
    case 'cancelled':
      at(
        0,
        `Deployment cancelled in ${ev.impl}-${ev.micro} for ${foldNodes(ev.nodes)}${ev.reason ? `: ${ev.reason}` : ''}`,
      );
      break;
    case 'note':
      at(ev.verbosity, `   * ${ev.text}`);
      break;
    case 'debug':
      if (opts.debug) out.push(`  [${ev.node}] ${ev.text}`);
      break;
    case 'workflow_end': {
      const all = [...ev.ok, ...ev.breakpoint, ...ev.ko, ...ev.cancelled];
      if (all.length > 0) at(0, `End of deployment for ${foldNodes(all)} after ${secs(ev.durationMs)}`);
      break;
    }
  }
  return out;
}
