import { describe, expect, it } from 'vitest';
import { fillPlaceholders, nodeIndex, parseSiteConfig } from '../../src/common/site-config.js';
import { planNodes } from '../../src/testbed/manager/addresses.js';
import { testbedLayout } from '../../src/testbed/manager/layout.js';
import { renderSiteYaml } from '../../src/testbed/manager/site-yaml.js';

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

describe('site configuration: each kind of bad input, with key and line', () => {
  const base = 'site: x\nclusters:\n  - name: c\n    nodes: { names: "a", addresses: "127.0.0.1" }\n';
  const cases: [string, string, string][] = [
    [
      'an unknown key, near miss',
      `${base}wait_reboto: { poll_ms: 5 }\n`,
      'f.yaml: wait_reboto: unknown key; did you mean wait_reboot?',
    ],
    [
      'an unknown nested key',
      `${base}wait_reboot: { pol_ms: 5 }\n`,
      'f.yaml: wait_reboot.pol_ms: unknown key; did you mean poll_ms?',
    ],
    [
      'an unknown cluster key',
      `${base}    automaton: x\n`,
      'f.yaml: clusters[0].automaton: unknown key; did you mean automata? (known: name, nodes',
    ],
    ['a wrong type', `${base}admins: root\n`, 'f.yaml: admins: expected a list of strings (line 5)'],
    [
      'a number as text',
      `${base}server: { port: eighty }\n`,
      'f.yaml: server.port: expected an integer between 0 and 65535 (line 5)',
    ],
    [
      'out of range',
      `${base}wait_reboot: { poll_ms: 5 }\n`,
      'f.yaml: wait_reboot.poll_ms: expected an integer between 10 and 600000 (line 5)',
    ],
    [
      'a bad enum',
      `${base}pxe_file_naming: mac\n`,
      "f.yaml: pxe_file_naming: 'mac' is not valid: expected one of ip_hex, ip, hostname",
    ],
    [
      'a bad cluster name',
      'site: x\nclusters:\n  - name: "c 1"\n    nodes: []\n',
      'f.yaml: clusters[0].name: letters, digits, _ and - only (line 3)',
    ],
    [
      'a command with both argv and http',
      `${base}    commands: { console: { argv: [x], http: { url: "http://h/" } } }\n`,
      'f.yaml: clusters[0].commands.console: give either argv or http, not both (line 5)',
    ],
    [
      'a node in two clusters',
      `${base}  - name: d\n    nodes: { names: "a", addresses: "127.0.0.2" }\n`,
      'f.yaml: clusters[1].nodes: node a is also declared in cluster c (line 6)',
    ],
    [
      'a cluster declared twice',
      `${base}  - name: c\n    nodes: []\n`,
      'f.yaml: clusters[1].name: cluster c is declared twice (line 5)',
    ],
    [
      'a bad address',
      'site: x\nclusters:\n  - name: c\n    nodes:\n      - { names: "a", addresses: "127.0.0.1" }\n      - { name: b, address: "10.0.0" }\n',
      "f.yaml: clusters[0].nodes[1].address: '10.0.0' is not an IPv4 address (line 6)",
    ],
  ];
  it.each(cases)('refuses %s', (_what, text, message) => {
    expect(() => parseSiteConfig(text, 'f.yaml')).toThrow(message);
  });

  it('still accepts numbers written as text, as it always did', () => {
    const cfg = parseSiteConfig(`${base}server: { port: "8080" }\n`, 'f.yaml');
    expect(cfg.listen.port).toBe(8080);
    expect(cfg.waitReboot).toEqual({ initialDelayMs: 20_000, pollMs: 5_000 });
  });

  it('loads the virtual site configuration the testbed writes', () => {
    const l = testbedLayout('/tmp/tb');
    const state = {
      format: 1 as const,
      site: 'vsite',
      cluster: 'vc',
      nodes: 3,
      sshPort: 2222,
      bmcPort: 2000,
      enginePort: 2001,
      bootDelayMs: 0,
      productionImage: 'prod',
    };
    const cfg = parseSiteConfig(renderSiteYaml(l, state, planNodes('vsite', 3), '/x/kaploy.js'), l.siteYaml);
    expect(cfg.clusters[0]?.nodes).toHaveLength(3);
    expect(cfg.waitReboot).toEqual({ initialDelayMs: 200, pollMs: 250 });
    expect(cfg.clusters[0]?.commands.powerStatus).toMatchObject({ kind: 'http', method: 'GET' });
  });
});
