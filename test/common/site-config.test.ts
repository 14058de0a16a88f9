import { describe, expect, it } from 'vitest';
import { fillPlaceholders, nodeIndex, parseSiteConfig } from '../../src/common/site-config.js';

const good = `
site: rennes
admins: [kaadmin]
clusters:
  - name: paradent
    nodes: { names: "paradent-[1-3].rennes", addresses: "127.5.0.[1-3]" }
    commands:
      reboot:
        soft: { argv: [ipmitool, -H, "{node}", power, reset] }
        hard: { http: { method: POST, url: "http://127.0.0.1:9/nodes/{node}/reboot?level=hard" } }
`;

describe('site configuration', () => {
  it('loads, expands ranges and normalises', () => {
    const cfg = parseSiteConfig(good, '/etc/kaploy/site.yaml');
    expect(cfg.site).toBe('rennes');
    expect([...nodeIndex(cfg).keys()]).toEqual([
      'paradent-1.rennes',
      'paradent-2.rennes',
      'paradent-3.rennes',
    ]);
    expect(nodeIndex(cfg).get('paradent-2.rennes')?.address).toBe('127.5.0.2');
    const c = cfg.clusters[0];
    expect(c?.commands.reboot.soft).toEqual({
      kind: 'argv',
      argv: ['ipmitool', '-H', '{node}', 'power', 'reset'],
    });
    expect(c?.commands.reboot.hard?.kind).toBe('http');
    expect(c?.partitioning.deploy).toBe(3);
    expect(cfg.ssh.connectTimeoutMs).toBe(10_000);
    expect(cfg.dataDir).toBe('/etc/kaploy/kaploy-data');
  });

  it('reports file and key for each kind of mistake', () => {
    const cases: [string, RegExp][] = [
      ['site: x\nclusters: []', /clusters: expected a non-empty list/],
      [
        'site: x\nclusters:\n  - name: c\n    nodes: { names: "a-[1-2]", addresses: "127.0.0.1" }',
        /2 names but 1 addresses/,
      ],
      ['site: x\nclusters:\n  - name: c\n    nodes: { names: "a", addresses: "localhost" }', /not an IPv4/],
      [
        'site: x\nclusters:\n  - name: c\n    nodes: { names: "a", addresses: "127.0.0.1" }\n    commands: { reboot: { soft: "reboot now" } }',
        /commands\.reboot\.soft: expected a mapping/,
      ],
      [
        'site: x\nclusters:\n  - name: c\n    nodes: { names: "a", addresses: "127.0.0.1" }\n    commands: { reboot: { medium: { argv: [x] } } }',
        /unknown level/,
      ],
      [
        'site: x\nclusters:\n  - name: c\n    nodes: { names: "a", addresses: "127.0.0.1" }\n    partitioning: { deploy: 2 }',
        /must be different/,
      ],
      ['site: [unclosed', /not valid YAML/],
      ['clusters: []', /site: is mandatory|clusters/],
    ];
    for (const [text, re] of cases) expect(() => parseSiteConfig(text, 'f.yaml'), text).toThrow(re);
    expect(() => parseSiteConfig(cases[0]![0], 'f.yaml')).toThrow(/^f\.yaml: /);
  });

  it('fills placeholders', () => {
    expect(fillPlaceholders('http://h/{node}/{level}', { node: 'n-1' })).toBe('http://h/n-1/{level}');
  });
});

describe('site configuration automata', () => {
  it('refuses a default workflow that does not parse, naming the cluster key', () => {
    const text = `site: x
clusters:
  - name: c
    nodes: { names: "a", addresses: "127.0.0.1" }
    automata: "SetDeploymentEnv|Nope:1:1&BroadcastEnv|BroadcastEnvKascade:1:1&BootNewEnv|BootNewEnvClassical:1:1"
`;
    expect(() => parseSiteConfig(text, 'f.yaml')).toThrow(/clusters\[0\]\.automata/);
  });
});
