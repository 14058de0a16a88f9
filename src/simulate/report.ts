import type { Expectation } from './runs.js';
import type { SimulationResult } from './simulate.js';

const s1 = (x: number) => x.toFixed(1);
const MAX_KO_LINES = 20;

function table(rows: string[][]): string[] {
  const widths = rows[0]?.map((_, c) => Math.max(...rows.map((r) => (r[c] ?? '').length))) ?? [];
  return rows.map((r) =>
    r
      .map((cell, c) => (c === 0 ? cell.padEnd(widths[c] ?? 0) : cell.padStart(widths[c] ?? 0)))
      .join('  ')
      .trimEnd(),
  );
}

/** The human report of one simulation (the --json output is the result itself). */
export function renderResult(r: SimulationResult, seed: number): string {
  const out: string[] = [];
  out.push(
    `Predicted deployment of ${r.nodes} nodes (seed ${seed}): ${s1(r.totalS)} s, ${r.ok} OK, ${r.ko.length} KO`,
  );
  out.push('', 'Macro-steps (first node in, last node out):');
  out.push(
    ...table([
      ['macro-step', 'start s', 'end s', 'span s'],
      ...r.macros.map((m) => [m.macro, s1(m.startS), s1(m.endS), s1(m.endS - m.startS)]),
    ]).map((l) => `  ${l}`),
  );
  out.push('', `Critical path (${r.criticalPath.node}, the last node to finish):`);
  out.push(
    ...table([
      ['implementation-micro-step', 'attempt', 'waited s', 'start s', 'end s', 'took s', ''],
      ...r.criticalPath.spans.map((sp) => [
        `${sp.impl}-${sp.micro}`,
        String(sp.attempt),
        s1(sp.waitS),
        s1(sp.startS),
        s1(sp.endS),
        s1(sp.endS - sp.startS),
        sp.ok ? '' : 'KO',
      ]),
    ]).map((l) => `  ${l}`),
  );
  out.push('', `Instance timeouts fired: ${r.timeouts.length === 0 ? 'none' : ''}`);
  for (const t of r.timeouts)
    out.push(`  ${t.cluster}: ${t.impl} (${t.timeoutSec} s) on ${t.nodes} node(s) at ${s1(t.atS)} s`);
  out.push(
    `wait_reboot timeouts: ${r.rebootEscalations} escalation(s) to a harder reboot, ${r.rebootGiveUps} node(s) given up`,
  );
  out.push(`Retries: ${r.retries} node-attempt(s); fallbacks: ${r.fallbacks}`);
  if (r.ko.length > 0) {
    out.push('', 'KO nodes:');
    for (const k of r.ko.slice(0, MAX_KO_LINES))
      out.push(`  ${k.node}: ${k.impl ?? '?'}-${k.micro ?? '?'}: ${k.reason ?? ''}`);
    if (r.ko.length > MAX_KO_LINES)
      out.push(`  ... and ${r.ko.length - MAX_KO_LINES} more (--json lists them all)`);
  }
  out.push(
    '',
    `Simulator: ${s1(r.stats.wallMs / 1000)} s wall, ${r.stats.events} events in ${r.stats.batches} instants, ${r.stats.microStepCalls} micro-step calls`,
  );
  return `${out.join('\n')}\n`;
}

export function renderExpectation(e: Expectation, seed: number): string {
  const out = [
    `Over ${e.runs} runs (seeds ${seed}-${seed + e.runs - 1}): total ${s1(e.meanTotalS)} s on average (${s1(e.minTotalS)}-${s1(e.maxTotalS)}), ${e.meanKo} KO nodes expected`,
  ];
  for (const k of e.oftenKo) out.push(`  ${k.node}: KO in ${Math.round(k.share * 100)}% of the runs`);
  return `${out.join('\n')}\n`;
}

/** The --compare table: one row per variant. */
export function renderComparison(rows: { label: string; result: SimulationResult }[]): string {
  const macros = ['SetDeploymentEnv', 'BroadcastEnv', 'BootNewEnv'] as const;
  const span = (r: SimulationResult, m: string) => {
    const x = r.macros.find((y) => y.macro === m);
    return x ? s1(x.endS - x.startS) : '-';
  };
  return `${table([
    ['variant', 'total s', 'last OK s', ...macros.map((m) => `${m} s`), 'OK', 'KO', 'timeouts', 'retries'],
    ...rows.map(({ label, result: r }) => [
      label,
      s1(r.totalS),
      s1(r.lastOkS),
      ...macros.map((m) => span(r, m)),
      String(r.ok),
      String(r.ko.length),
      String(r.timeouts.reduce((a, t) => a + t.nodes, 0) + r.rebootGiveUps),
      String(r.retries),
    ]),
  ]).join('\n')}\n`;
}
