import { readFileSync } from 'node:fs';
import path from 'node:path';
import { describe, expect, it } from 'vitest';
import { parse } from 'yaml';
import { EngineMetrics } from '../../../src/engine/metrics/engine-metrics.js';
import { registerNodeStates, registerRestoreGauges } from '../../../src/engine/metrics/store-gauges.js';
import { RestoresRepo } from '../../../src/engine/oar-restore/restores-repo.js';
import { openStore } from '../../../src/engine/store/store.js';

/**
 * The alert rules and the Grafana dashboard in docs/ (no promtool here): they parse, and every
 * series their expressions name is one the engine exports (a renamed metric would leave an alert
 * that never fires). docs/metrics.md documents every kaploy_ metric.
 */
const docs = path.resolve(import.meta.dirname, '..', '..', '..', 'docs');

function exported(): Set<string> {
  const store = openStore(':memory:');
  try {
    const m = new EngineMetrics();
    registerNodeStates(m.registry, store.db);
    new RestoresRepo(store.db);
    registerRestoreGauges(m.registry, store.db);
    const names = new Set<string>();
    for (const metric of m.registry.getMetricsAsArray()) {
      const { name, type } = metric as unknown as { name: string; type: string };
      names.add(name);
      if (type === 'histogram') for (const s of ['_bucket', '_sum', '_count']) names.add(`${name}${s}`);
      if (type === 'summary') for (const s of ['_sum', '_count']) names.add(`${name}${s}`);
    }
    return names;
  } finally {
    store.close();
  }
}

const KEYWORDS = new Set([
  'by',
  'without',
  'and',
  'or',
  'unless',
  'on',
  'ignoring',
  'group_left',
  'group_right',
  'offset',
  'bool',
  'le',
]);

/** The series names a PromQL expression reads (functions, label matchers, strings, groupings left out). */
function seriesOf(expr: string): string[] {
  const bare = expr
    .replace(/"(?:[^"\\]|\\.)*"/g, '""')
    .replace(/\{[^}]*\}/g, '')
    .replace(/\b(by|without|on|ignoring)\s*\([^)]*\)/g, '')
    .replace(/\[[^\]]*\]/g, '');
  const out: string[] = [];
  for (const m of bare.matchAll(/[A-Za-z_:][A-Za-z0-9_:]*(?=\s*(\(?))/g)) {
    if (m[1] === '(' || KEYWORDS.has(m[0])) continue;
    out.push(m[0]);
  }
  return out;
}

describe('docs: alert rules, dashboard, metric reference', () => {
  const names = exported();
  // Prometheus's own series for a scrape job.
  const known = (s: string) => names.has(s) || s === 'up';

  it('the expression reader finds series and only series', () => {
    expect(
      seriesOf(
        'sum by (instance, cluster) (increase(kaploy_node_outcomes_total{kind="deploy",status=~"ok|ko"}[1h])) / up > 0.2 and x_y >= 10',
      ),
    ).toEqual(['kaploy_node_outcomes_total', 'up', 'x_y']);
  });

  it('docs/prometheus/kaploy-alerts.yml parses; each rule has an alert, an expr of exported series, a summary', () => {
    const doc = parse(readFileSync(path.join(docs, 'prometheus', 'kaploy-alerts.yml'), 'utf8')) as {
      groups: { name: string; rules: { alert: string; expr: string; annotations: { summary: string } }[] }[];
    };
    const rules = doc.groups.flatMap((g) => g.rules);
    expect(rules.map((r) => r.alert)).toEqual(
      expect.arrayContaining(['KaployOarRestoreOld', 'KaployClusterFailureRate']),
    );
    for (const r of rules) {
      expect(r.annotations.summary, r.alert).toBeTruthy();
      const series = seriesOf(r.expr);
      expect(series.length, r.alert).toBeGreaterThan(0);
      expect(
        series.filter((s) => !known(s)),
        r.alert,
      ).toEqual([]);
    }
  });

  it('docs/grafana/kaploy-dashboard.json parses; every panel query reads exported series', () => {
    const dash = JSON.parse(readFileSync(path.join(docs, 'grafana', 'kaploy-dashboard.json'), 'utf8')) as {
      panels: { title: string; type: string; targets?: { expr: string }[] }[];
    };
    const queries = dash.panels.flatMap((p) => (p.targets ?? []).map((t) => [p.title, t.expr] as const));
    expect(queries.length).toBeGreaterThan(10);
    for (const [title, expr] of queries)
      expect(
        seriesOf(expr).filter((s) => !known(s)),
        title,
      ).toEqual([]);
    // Every family of the engine's own is on the dashboard (a histogram by its buckets or count).
    const shown = new Set(queries.flatMap(([, e]) => seriesOf(e)));
    const families = [...names].filter((n) => n.startsWith('kaploy_') && !/_(bucket|sum|count)$/.test(n));
    const missing = families.filter((f) => ![f, `${f}_bucket`, `${f}_count`].some((s) => shown.has(s)));
    expect(missing).toEqual([]);
  });

  it('docs/metrics.md documents every kaploy_ metric', () => {
    const md = readFileSync(path.join(docs, 'metrics.md'), 'utf8');
    const families = [...names].filter((n) => n.startsWith('kaploy_') && !/_(bucket|sum|count)$/.test(n));
    expect(families.filter((f) => !md.includes(`\`${f}\``))).toEqual([]);
  });
});
