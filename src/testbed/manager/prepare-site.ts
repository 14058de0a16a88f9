import { mkdir, readdir, rm } from 'node:fs/promises';
import path from 'node:path';
import { KaployError } from '../../common/errors.js';
import { installTestImages, writeEnvDescriptions } from '../images/index.js';
import { clusterName, type PlannedNode, planNodes } from './addresses.js';
import { isDaemonAlive } from './daemon-process.js';
import { ensureHostKeys, ensureKeyPairs } from './keys.js';
import { type TestbedLayout, testbedLayout } from './layout.js';
import { kaployJs } from './package-paths.js';
import { isPortFree, pickFreePort } from './ports.js';
import { writeSiteFiles } from './site-files.js';
import { renderSiteYaml } from './site-yaml.js';
import { readState, type TestbedState, writeBmcToken, writeState } from './testbed-state.js';
import { writeTlsFiles } from './tls-files.js';
import type { UpOptions } from './up-options.js';

export interface PreparedTestbed {
  layout: TestbedLayout;
  state: TestbedState;
  nodes: PlannedNode[];
}

function runningDaemon(l: TestbedLayout): number | undefined {
  try {
    const s = readState(l);
    return isDaemonAlive(s.pid, l.dir) ? s.pid : undefined;
  } catch {
    return undefined;
  }
}

/**
 * Writes everything a client and an engine need to use the site (keys, site.yaml, node file,
 * known_hosts, ssh_config, client.yaml, env, images, environment descriptions), before the daemon
 * starts. A site starts from scratch: node disks and PXE profiles of a previous run are removed;
 * keys are kept so known_hosts and authorised keys stay valid.
 */
export async function prepareTestbed(o: UpOptions, signal?: AbortSignal): Promise<PreparedTestbed> {
  const l = testbedLayout(o.dir);
  const running = runningDaemon(l);
  if (running) {
    throw new KaployError(
      'KAPLOY_CONFLICT',
      `a virtual site is already running in ${l.dir} (pid ${running}): run kaploy testbed down --dir ${l.dir} first`,
    );
  }
  const nodes = planNodes(o.site, o.nodes, o.domain);
  const first = nodes[0] as PlannedNode;
  if (!(await isPortFree(first.address, o.sshPort))) {
    throw new KaployError(
      'KAPLOY_CONFLICT',
      `${first.address}:${o.sshPort} is already in use (another virtual site named '${o.site}', or one whose name maps to the same addresses?): use another --site or --ssh-port`,
    );
  }
  await mkdir(l.dir, { recursive: true });
  await rm(l.nodesDir, { recursive: true, force: true });
  await rm(l.bootDir, { recursive: true, force: true });
  await rm(l.log, { force: true });

  const imgs = await installTestImages(l.imagesDir, { signal });
  await writeEnvDescriptions(l.envsDir, imgs);
  await ensureKeyPairs(l, signal);
  const hostKeys = await ensureHostKeys(l, nodes);
  await pruneStaleHostKeys(l, nodes);

  const state: TestbedState = {
    format: 1,
    site: o.site,
    cluster: clusterName(o.site),
    nodes: o.nodes,
    sshPort: o.sshPort,
    bmcPort: await pickFreePort(),
    enginePort: await pickFreePort(),
    ...(o.tls ? { tls: true } : {}),
    bootDelayMs: o.bootDelayMs,
    ...(o.firmwareDelayMs === undefined ? {} : { firmwareDelayMs: o.firmwareDelayMs }),
    ...(o.nicBytesPerSec === undefined ? {} : { nicBytesPerSec: o.nicBytesPerSec }),
    productionImage: imgs.prodTgz,
    token: await writeBmcToken(l),
  };
  await mkdir(l.engineDataDir, { recursive: true });
  // A fresh CA and engine certificate at each `up --tls`; none left from an earlier one without.
  if (o.tls) await writeTlsFiles(l, signal);
  else await rm(l.tlsDir, { recursive: true, force: true });
  await writeSiteFiles(l, state, nodes, hostKeys, renderSiteYaml(l, state, nodes, kaployJs));
  await writeState(l, state);
  return { layout: l, state, nodes };
}

/** Host keys of nodes no longer in the site (a smaller --nodes than last time). */
async function pruneStaleHostKeys(l: TestbedLayout, nodes: PlannedNode[]): Promise<void> {
  const keep = new Set(nodes.map((n) => n.name));
  for (const f of await readdir(l.hostKeysDir)) {
    if (!keep.has(f)) await rm(path.join(l.hostKeysDir, f), { force: true });
  }
}
