// The reliability table: one row per scenario, and what makes a row a failure.
import os from 'node:os';

export const loadavg = () =>
  os
    .loadavg()
    .map((x) => x.toFixed(1))
    .join(' ');

const count = (v) => (Number.isSafeInteger(v) && v >= 0 ? v : Number.NaN);

/** A scenario's result with every count checked: a missing or malformed count reads NaN, a failure. */
export function normalise(r) {
  return {
    runs: count(r?.runs ?? 0),
    passed: count(r?.passed ?? 0),
    dataLost: count(r?.dataLost ?? 0),
    stuckNodes: count(r?.stuckNodes ?? 0),
    internalErrors: count(r?.internalErrors ?? 0),
    ...(typeof r?.enginePeakMiB === 'number' ? { enginePeakMiB: r.enginePeakMiB } : {}),
    notes: typeof r?.notes === 'string' ? r.notes : '',
  };
}

/** True when the row is not a clean pass: a run failed (or none ran), data lost, a node stuck, an internal error. */
export function isFailure(r) {
  return (
    r.threw === true ||
    !(r.runs > 0) ||
    r.passed !== r.runs ||
    r.dataLost !== 0 ||
    r.stuckNodes !== 0 ||
    r.internalErrors !== 0
  );
}

const cell = (s) => String(s).replace(/\|/g, '\\|').replace(/\n/g, ' ');

/** The table, Markdown (the README quotes it as printed). */
export function formatTable(rows) {
  const lines = [
    '| scenario | runs | passed | data lost | stuck nodes | internal errors | engine peak MiB | time s | result | notes |',
    '|---|---|---|---|---|---|---|---|---|---|',
  ];
  for (const r of rows) {
    lines.push(
      `| ${cell(r.name)} | ${r.runs} | ${r.passed} | ${r.dataLost} | ${r.stuckNodes} | ${r.internalErrors} | ${
        r.enginePeakMiB === undefined ? '-' : r.enginePeakMiB.toFixed(0)
      } | ${r.seconds === undefined ? '-' : r.seconds.toFixed(0)} | ${isFailure(r) ? 'FAIL' : 'ok'} | ${cell(r.notes ?? '')} |`,
    );
  }
  return lines.join('\n');
}
