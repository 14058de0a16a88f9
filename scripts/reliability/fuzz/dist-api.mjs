// The parsers the suites fuzz, imported from the build (`npm run build` first): the reliability
// scenario runs with plain node. The tests build the same object from src (test/fuzz/api.ts).
import path from 'node:path';
import { pathToFileURL } from 'node:url';

export async function loadDistApi(root) {
  const load = (p) => import(pathToFileURL(path.join(root, 'dist', p)).href);
  const [
    errors,
    names,
    fold,
    force,
    macro,
    bp,
    micro,
    parse,
    print,
    dates,
    fields,
    query,
    oar,
    image,
    commands,
  ] = await Promise.all([
    load('common/errors.js'),
    load('formats/node-names.js'),
    load('engine/workflow/fold-nodes.js'),
    load('formats/force-steps.js'),
    load('formats/macro-steps.js'),
    load('engine/workflow/breakpoint.js'),
    load('engine/workflow/micro-steps.js'),
    load('formats/environment/parse.js'),
    load('formats/environment/print.js'),
    load('stats/dates.js'),
    load('stats/fields.js'),
    load('stats/query.js'),
    load('hook/oar-job.js'),
    load('engine/steps/image-content.js'),
    load('formats/node-commands.js'),
  ]);
  return {
    KaployError: errors.KaployError,
    expandRange: names.expandRange,
    parseNodeFile: names.parseNodeFile,
    MAX_NODES: names.MAX_NODES,
    foldNodes: fold.foldNodes,
    parseForceSteps: force.parseForceSteps,
    formatPlan: force.formatPlan,
    MACRO_STEPS: macro.MACRO_STEPS,
    IMPLEMENTATIONS: macro.IMPLEMENTATIONS,
    parseBreakpoint: bp.parseBreakpoint,
    plannedSteps: micro.plannedSteps,
    parseDescription: parse.parseDescription,
    printDescription: print.printDescription,
    parseStatsDate: dates.parseStatsDate,
    parseFields: fields.parseFields,
    STATS_FIELDS: fields.STATS_FIELDS,
    parseStatsQuery: query.parseStatsQuery,
    parseOarstatJson: oar.parseOarstatJson,
    checkImageContent: image.checkImageContent,
    runPostinstall: commands.nodeCommands.runPostinstall,
  };
}
