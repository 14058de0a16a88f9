import { KaployError, type KaployErrorCode } from '../common/errors.js';
import {
  IMPLEMENTATIONS,
  type ImplInstance,
  MACRO_STEPS,
  type MacroStep,
  macroOfImpl,
  type WorkflowPlan,
} from './macro-steps.js';

/**
 * Parses the --force-steps / automata syntax (Kadeploy3):
 *   SetDeploymentEnv|Impl:retries:timeout[,Impl:retries:timeout...]&BroadcastEnv|...&BootNewEnv|...
 * Several items in one macro-step are fallbacks, tried in order. Every error names the part that is
 * wrong, so the user can fix the string without reading the regex.
 */
export function parseForceSteps(text: string): WorkflowPlan {
  return parsePlan(text, { code: 'KAPLOY_OPTION', what: '--force-steps', key: 'force-steps' });
}

/** Same syntax, for a cluster's default automata in the site configuration (`key` = its config key). */
export function parseAutomata(text: string, key = 'automata'): WorkflowPlan {
  return parsePlan(text, { code: 'KAPLOY_CONFIG', what: `automata (${key})`, key });
}

interface Origin {
  code: KaployErrorCode;
  what: string;
  key: string;
}

// Bounds keep a typo (an extra digit) from turning into a week-long deployment.
const MAX_RETRIES = 100;
const MAX_TIMEOUT_SEC = 7 * 24 * 3600;

function parsePlan(text: string, origin: Origin): WorkflowPlan {
  const fail = (msg: string, step?: string): never => {
    throw new KaployError(origin.code, `Invalid ${origin.what} '${text}': ${msg}`, {
      key: origin.key,
      ...(step === undefined ? {} : { step }),
    });
  };
  const parts = text.trim().split('&');
  const seen = new Map<MacroStep, ImplInstance[]>();
  parts.forEach((part, i) => {
    const bar = part.indexOf('|');
    if (bar < 0) fail(`part ${i + 1} '${part}' must be MacroStep|Impl:retries:timeout[,...]`);
    const macroName = part.slice(0, bar);
    if (!(MACRO_STEPS as readonly string[]).includes(macroName)) {
      fail(`unknown macro-step '${macroName}' (expected one of ${MACRO_STEPS.join(', ')})`, macroName);
    }
    const macro = macroName as MacroStep;
    if (seen.has(macro)) fail(`macro-step ${macro} is given twice`, macro);
    const expected = MACRO_STEPS[i];
    if (expected !== undefined && macro !== expected) {
      fail(`macro-step ${macro} is out of order: part ${i + 1} must be ${expected}`, macro);
    }
    seen.set(macro, parseItems(part.slice(bar + 1), macro, fail));
  });
  for (const macro of MACRO_STEPS) {
    if (!seen.has(macro))
      fail(`macro-step ${macro} is missing (all of ${MACRO_STEPS.join(', ')} are needed)`, macro);
  }
  if (parts.length > MACRO_STEPS.length) fail(`expected ${MACRO_STEPS.length} macro-steps separated by '&'`);
  return {
    SetDeploymentEnv: seen.get('SetDeploymentEnv')!,
    BroadcastEnv: seen.get('BroadcastEnv')!,
    BootNewEnv: seen.get('BootNewEnv')!,
  };
}

function parseItems(
  list: string,
  macro: MacroStep,
  fail: (msg: string, step?: string) => never,
): ImplInstance[] {
  // A trailing comma is accepted: Kadeploy's regex has `,?` after every item.
  const items = list.endsWith(',') ? list.slice(0, -1).split(',') : list.split(',');
  if (list === '' || list === ',') fail(`macro-step ${macro} lists no implementation`, macro);
  return items.map((item) => {
    const fields = item.split(':');
    if (fields.length !== 3) fail(`item '${item}' of ${macro} must be Implementation:retries:timeout`, macro);
    const [name = '', retries = '', timeout = ''] = fields;
    const owner = macroOfImpl(name);
    if (owner === undefined) {
      fail(
        `unknown implementation '${name}' for ${macro} (valid: ${IMPLEMENTATIONS[macro].join(', ')})`,
        macro,
      );
    } else if (owner !== macro) {
      fail(`implementation ${name} belongs to ${owner}, not to ${macro}`, macro);
    }
    return {
      impl: name as ImplInstance['impl'],
      retries: wholeNumber(retries, 'retries', item, macro, MAX_RETRIES, fail),
      timeoutSec: wholeNumber(timeout, 'timeout', item, macro, MAX_TIMEOUT_SEC, fail),
    };
  });
}

function wholeNumber(
  s: string,
  field: string,
  item: string,
  macro: MacroStep,
  max: number,
  fail: (msg: string, step?: string) => never,
): number {
  if (!/^\d+$/.test(s)) fail(`${field} '${s}' in item '${item}' of ${macro} must be a whole number`, macro);
  const v = Number(s);
  if (v > max) fail(`${field} ${s} in item '${item}' of ${macro} is above the limit ${max}`, macro);
  return v;
}

/** The inverse of parseForceSteps (for logs, the API and kastat). */
export function formatPlan(plan: WorkflowPlan): string {
  return MACRO_STEPS.map(
    (m) => `${m}|${plan[m].map((i) => `${i.impl}:${i.retries}:${i.timeoutSec}`).join(',')}`,
  ).join('&');
}
