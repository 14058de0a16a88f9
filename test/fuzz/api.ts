import type { FuzzApi } from '../../scripts/reliability/fuzz/suites.mjs';
import { KaployError } from '../../src/common/errors.js';
import { checkImageContent } from '../../src/engine/steps/image-content.js';
import { parseBreakpoint } from '../../src/engine/workflow/breakpoint.js';
import { foldNodes } from '../../src/engine/workflow/fold-nodes.js';
import { plannedSteps } from '../../src/engine/workflow/micro-steps.js';
import { parseDescription } from '../../src/formats/environment/parse.js';
import { printDescription } from '../../src/formats/environment/print.js';
import { formatPlan, parseForceSteps } from '../../src/formats/force-steps.js';
import { IMPLEMENTATIONS, MACRO_STEPS } from '../../src/formats/macro-steps.js';
import { nodeCommands } from '../../src/formats/node-commands.js';
import { expandRange, MAX_NODES, parseNodeFile } from '../../src/formats/node-names.js';
import { parseOarstatJson } from '../../src/hook/oar-job.js';
import { parseStatsDate } from '../../src/stats/dates.js';
import { parseFields, STATS_FIELDS } from '../../src/stats/fields.js';
import { parseStatsQuery } from '../../src/stats/query.js';

/** The parsers the fuzz suites exercise, from src (the reliability scenario takes them from dist). */
export const srcApi: FuzzApi = {
  KaployError,
  expandRange,
  parseNodeFile,
  MAX_NODES,
  foldNodes,
  parseForceSteps,
  formatPlan,
  MACRO_STEPS,
  IMPLEMENTATIONS,
  parseBreakpoint,
  plannedSteps,
  parseDescription,
  printDescription,
  parseStatsDate,
  parseFields,
  STATS_FIELDS,
  parseStatsQuery,
  parseOarstatJson,
  checkImageContent,
  runPostinstall: nodeCommands.runPostinstall,
};
