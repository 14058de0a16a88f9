import { stringify } from 'yaml';
import type { PlannedNode } from './addresses.js';
import type { TestbedLayout } from './layout.js';
import type { TestbedState } from './testbed-state.js';
import { tlsFiles } from './tls-files.js';

/** Partition numbers of the virtual disks (Grid'5000's layout: swap 1, prod 2, deploy 3, tmp 5). */
export const PARTITIONING = { block_device: '/dev/sda', swap: 1, prod: 2, deploy: 3, tmp: 5 };
export const DEPLOY_KERNEL = 'deploy/vmlinuz';
export const DEPLOY_INITRD = 'deploy/initrd.img';

// Grid'5000's implementations (the tutorial's --breakpoint BroadcastEnvKastafior:... works as written),
// with timeouts and retries sized for virtual nodes that boot in well under a second.
const AUTOMATA =
  'SetDeploymentEnv|SetDeploymentEnvUntrusted:1:60&BroadcastEnv|BroadcastEnvKastafior:1:120&BootNewEnv|BootNewEnvClassical:0:60,BootNewEnvHardReboot:1:60';

/** Groups nodes per /24 so the YAML names them as ranges (node-[1-250].site, 127.s.0.[1-250]). */
function nodeRanges(nodes: PlannedNode[]): { names: string; addresses: string }[] {
  const groups = new Map<string, PlannedNode[]>();
  for (const n of nodes) {
    const prefix = n.address.split('.').slice(0, 3).join('.');
    groups.set(prefix, [...(groups.get(prefix) ?? []), n]);
  }
  return [...groups.entries()].map(([prefix, g]) => {
    const first = g[0] as PlannedNode;
    const last = g[g.length - 1] as PlannedNode;
    const lo = first.address.split('.')[3];
    const hi = last.address.split('.')[3];
    return g.length === 1
      ? { names: first.name, addresses: first.address }
      : {
          // The names after node-N (SITE, or SITE.DOMAIN with --domain) are the first name's.
          names: `node-[${first.index}-${last.index}]${first.name.slice(first.name.indexOf('.'))}`,
          addresses: `${prefix}.[${lo}-${hi}]`,
        };
  });
}

/**
 * A working site configuration for the virtual site (loads with loadSiteConfig): power and reboot
 * go through the daemon's BMC-like HTTP API, the console through `kaploy testbed console`.
 */
export function renderSiteYaml(
  l: TestbedLayout,
  s: TestbedState,
  nodes: PlannedNode[],
  kaployJs: string,
): string {
  const bmc = `http://127.0.0.1:${s.bmcPort}/nodes/{node}`;
  const post = (p: string) => ({ http: { method: 'POST', url: `${bmc}/${p}`, token_file: l.bmcToken } });
  const levels = (p: (level: string) => string) => ({
    soft: post(p('soft')),
    hard: post(p('hard')),
    very_hard: post(p('very_hard')),
  });
  const doc = {
    site: s.site,
    server: {
      host: '127.0.0.1',
      port: s.enginePort,
      ...(s.tls ? { tls_cert: tlsFiles(l).cert, tls_key: tlsFiles(l).key } : {}),
    },
    data_dir: l.engineDataDir,
    admins: ['kaadmin', 'deploy'],
    boot_dir: l.bootDir,
    pxe_file_naming: 'ip_hex',
    image_dirs: [l.imagesDir],
    ssh: { key: l.engineKey, user: 'root', connect_timeout: 5, keepalive_interval: 5, max_channels: 8 },
    windows: { reboot: 50, check: 50 },
    // Virtual nodes boot in milliseconds: poll at once and often (Kadeploy: 20 s, then every 5 s).
    // Not 0: a node's listener that is closing may still accept the first probe after a reset.
    wait_reboot: { initial_delay_ms: 200, poll_ms: 250 },
    extract_dir: '/mnt/dest',
    marker_port: 25300,
    production: { environment: 'prod-env', user: 'deploy' },
    clusters: [
      {
        name: s.cluster,
        ssh_port: s.sshPort,
        nodes: nodeRanges(nodes),
        partitioning: PARTITIONING,
        deploy_env: { kernel: DEPLOY_KERNEL, initrd: DEPLOY_INITRD, params: 'console=ttyS0' },
        timeouts: { reboot: '30', kexec: '20' },
        automata: AUTOMATA,
        commands: {
          reboot: levels((lv) => `reboot?level=${lv}`),
          // Power levels all mean the same to a virtual BMC; Kadeploy lets each level differ.
          power_on: levels(() => 'power/on'),
          power_off: levels(() => 'power/off'),
          power_status: { http: { method: 'GET', url: `${bmc}/power`, token_file: l.bmcToken } },
          console: { argv: [process.execPath, kaployJs, 'testbed', 'console', '--dir', l.dir, '{node}'] },
        },
      },
    ],
  };
  return `# Virtual site '${s.site}' written by kaploy testbed up; regenerated at each up.\n${stringify(doc)}`;
}
