import { KaployError } from '../common/errors.js';
import { parseSiteConfig, type SiteConfig } from '../common/site-config.js';

/** Bounds of a generated site (--nodes, --clusters). */
export const MAX_GENERATED_NODES = 200_000;
export const MAX_GENERATED_CLUSTERS = 250;

export interface GeneratedSite {
  nodes: number;
  clusters: number;
  /** The automata of every cluster (default: the site configuration's default). */
  automata?: string;
  /** windows.reboot / windows.check (default: the site configuration's defaults). */
  windows?: { reboot?: number; check?: number };
  waitReboot?: { initialDelayMs?: number; pollMs?: number };
  timeouts?: { reboot?: string; kexec?: string };
}

/**
 * The YAML of a site of `nodes` nodes spread evenly over `clusters` clusters (sim-1, sim-2...),
 * loaded by the engine's own loader and validator, so a generated site is what an admin could write.
 */
function generateSiteYaml(g: GeneratedSite): string {
  if (!Number.isSafeInteger(g.nodes) || g.nodes < 1 || g.nodes > MAX_GENERATED_NODES)
    throw new KaployError('KAPLOY_OPTION', `--nodes: expected 1 to ${MAX_GENERATED_NODES}, not ${g.nodes}`, {
      key: 'nodes',
    });
  if (
    !Number.isSafeInteger(g.clusters) ||
    g.clusters < 1 ||
    g.clusters > Math.min(g.nodes, MAX_GENERATED_CLUSTERS)
  )
    throw new KaployError(
      'KAPLOY_OPTION',
      `--clusters: expected 1 to ${Math.min(g.nodes, MAX_GENERATED_CLUSTERS)}, not ${g.clusters}`,
      { key: 'clusters' },
    );
  const lines = ['site: sim', 'admins: [kaadmin]'];
  if (g.windows) {
    lines.push('windows:');
    if (g.windows.reboot !== undefined) lines.push(`  reboot: ${g.windows.reboot}`);
    if (g.windows.check !== undefined) lines.push(`  check: ${g.windows.check}`);
  }
  if (g.waitReboot) {
    lines.push('wait_reboot:');
    if (g.waitReboot.initialDelayMs !== undefined)
      lines.push(`  initial_delay_ms: ${g.waitReboot.initialDelayMs}`);
    if (g.waitReboot.pollMs !== undefined) lines.push(`  poll_ms: ${g.waitReboot.pollMs}`);
  }
  lines.push('clusters:');
  for (let c = 0; c < g.clusters; c++) {
    const count = Math.floor(g.nodes / g.clusters) + (c < g.nodes % g.clusters ? 1 : 0);
    const name = `sim-${c + 1}`;
    lines.push(`  - name: ${name}`, '    nodes:');
    // One range per /24 (250 addresses), in 10.(c / 250).(c % 250 ... ): cluster c owns 10.C.x.y.
    for (let first = 1, block = 0; first <= count; first += 250, block++) {
      const last = Math.min(count, first + 249);
      lines.push(
        `      - { names: "${name}-[${first}-${last}].sim", addresses: "10.${c}.${block}.[1-${last - first + 1}]" }`,
      );
    }
    if (g.automata) lines.push(`    automata: ${JSON.stringify(g.automata)}`);
    if (g.timeouts) {
      lines.push('    timeouts:');
      if (g.timeouts.reboot) lines.push(`      reboot: ${JSON.stringify(g.timeouts.reboot)}`);
      if (g.timeouts.kexec) lines.push(`      kexec: ${JSON.stringify(g.timeouts.kexec)}`);
    }
  }
  return `${lines.join('\n')}\n`;
}

export function generateSite(g: GeneratedSite): SiteConfig {
  return parseSiteConfig(generateSiteYaml(g), '<generated site>', '/');
}
