import { describe, expect, it } from 'vitest';
import { parseHardwareModel } from '../../src/simulate/model.js';
import { expectation } from '../../src/simulate/runs.js';
import { simulate } from '../../src/simulate/simulate.js';
import { generateSite } from '../../src/simulate/site-gen.js';

describe('generated site', () => {
  it('spreads the nodes evenly over the clusters, through the engine’s loader', () => {
    const site = generateSite({ nodes: 502, clusters: 2, windows: { reboot: 7 } });
    expect(site.clusters.map((c) => c.nodes.length)).toEqual([251, 251]);
    expect(site.clusters[0]?.nodes.at(-1)).toEqual({
      name: 'sim-1-251.sim',
      address: '10.0.1.1',
      cluster: 'sim-1',
    });
    expect(site.windows.reboot).toBe(7);
  });

  it('refuses counts out of bounds', () => {
    expect(() => generateSite({ nodes: 0, clusters: 1 })).toThrow(/--nodes: expected 1 to 200000/);
    expect(() => generateSite({ nodes: 3, clusters: 4 })).toThrow(/--clusters: expected 1 to 3/);
  });
});

describe('expected KO nodes over several seeds', () => {
  it('is the mean of the runs it is made of', async () => {
    const site = generateSite({ nodes: 30, clusters: 1 });
    const model = parseHardwareModel('defaults: { faults: { format_deploy_part: { fail: 0.6 } } }', 'm.yaml');
    const e = await expectation({ site, model, seed: 11 }, 3);
    const runs = await Promise.all([11, 12, 13].map((seed) => simulate({ site, model, seed })));
    expect(e.runs).toBe(3);
    expect(e.meanKo).toBeCloseTo(runs.reduce((a, r) => a + r.ko.length, 0) / 3, 3);
    expect(e.maxTotalS).toBe(Math.max(...runs.map((r) => r.totalS)));
    expect(e.meanKo).toBeGreaterThan(0);
  });
});
