import { KaployError } from '../../common/errors.js';
import { POWER, REBOOT } from '../nodeops/nodeop-kinds.js';
import { DEPLOY } from '../operations/deploy-kind.js';
import type { BaseOutcome, PlanKind } from '../operations/operation-kind.js';
import { notFound } from '../server/http-errors.js';

/** The kinds the dashboard shows: deployments, reboots (OAR restores among them) and power. */
export const UI_KINDS: readonly PlanKind<BaseOutcome>[] = [DEPLOY, REBOOT, POWER];

const WID_RE = /^([DRP])-[0-9a-f]{8}-[0-9a-f]{4}-[0-9a-f]{4}-[0-9a-f]{4}-[0-9a-f]{12}$/;

/** The kind of a workflow id from the address bar; anything else is an unknown operation. */
export function kindOfWid(wid: string): PlanKind<BaseOutcome> {
  const m = WID_RE.exec(wid);
  const kind = m ? UI_KINDS.find((k) => k.prefix === m[1]) : undefined;
  if (!kind) throw notFound('KAPLOY_INVALID_WORKFLOW_ID', 'no such operation');
  return kind;
}

/** Verbosity of a log view, as kadeploy3 -V takes it (0-5; 3 by default). */
export function parseVerbosity(v: string | undefined): number {
  if (v === undefined || v === '') return 3;
  if (!/^[0-5]$/.test(v)) throw new KaployError('KAPLOY_OPTION', 'verbosity is 0 to 5');
  return Number(v);
}
