import { describe, expect, it } from 'vitest';
import { parseHardwareModel } from '../../src/simulate/model.js';

describe('hardware model file', () => {
  it('fills defaults, inherits defaults per cluster and parses deterministic faults', () => {
    const m = parseHardwareModel(
      `image_mb: 500
defaults: { nic_mb_s: 50, boot_s: { mean: 30, sd: 2 } }
clusters: { a: { disk_mb_s: 80 } }
faulty_nodes: { n-1: { boot: fail, format_deploy_part: "hang@0,2" } }
`,
      'm.yaml',
    );
    expect(m.imageMB).toBe(500);
    expect(m.clusters.a?.nicMBs).toBe(50);
    expect(m.clusters.a?.diskMBs).toBe(80);
    expect(m.defaults.boot).toEqual({ mean: 30, sd: 2, min: 0, max: 42 });
    expect(m.faultyNodes['n-1']).toEqual({
      boot: { kind: 'fail' },
      format_deploy_part: { kind: 'hang', attempts: [0, 2] },
    });
  });

  it('refuses what it does not know or cannot bound, naming the file and key', () => {
    const cases: [string, RegExp][] = [
      ['image_mb: -1', /^m\.yaml: image_mb: /],
      ['imagemb: 3', /m\.yaml: .*imagemb.*unknown key/],
      ['defaults: { steps: { formatt: 1 } }', /defaults\.steps\.formatt: not a micro-step name/],
      ['defaults: { faults: { send_environment: { fail: 2 } } }', /probability/],
      ['faulty_nodes: { n: { boot: explode } }', /expected fail, hang or lost/],
      ['defaults: { boot_s: { mean: 5, min: 9, max: 1 } }', /min is above max/],
      ['defaults: { boot_s: 100000 }', /seconds/],
    ];
    for (const [text, re] of cases) expect(() => parseHardwareModel(text, 'm.yaml'), text).toThrow(re);
  });
});
