import type { OperationOutcome } from '../../api/operation-status.js';
import { errorMessage, isKaployError } from '../../common/errors.js';
import type { SiteFailureStage, SiteOutcome } from './run-options.js';

/**
 * A site that failed as a whole: every node of it gets a KO outcome whose step says how the site
 * failed (`Server-unreachable`, `Server-refused`, `Server-lost`), so the merged summary and the
 * -n file show them like any other KO node.
 */
export function failedSite(
  server: string,
  nodes: readonly string[],
  stage: SiteFailureStage,
  e: unknown,
  wid?: string,
): SiteOutcome {
  const message = errorMessage(e);
  const code = isKaployError(e) ? e.code : 'KAPLOY_CLIENT';
  return {
    server,
    nodes: [...nodes],
    ...(wid !== undefined ? { wid } : {}),
    failure: { stage, code, message, cause: e },
    outcomes: nodes.map((node) => siteNodeOutcome(node, stage, message)),
  };
}

export function siteNodeOutcome(node: string, stage: SiteFailureStage, reason: string): OperationOutcome {
  return {
    node,
    status: stage === 'cancelled' ? 'cancelled' : 'ko',
    impl: 'Server',
    micro: stage,
    reason,
  };
}
