import { readFileSync } from 'node:fs';
import path from 'node:path';
import pMap from 'p-map';
import { errorMessage } from '../../common/errors.js';
import type { Logger } from '../../common/logger.js';
import { clusterOf, loadSiteConfig } from '../../common/site-config.js';
import { readToken } from '../../common/token-file.js';
import { VirtualNode } from '../node/index.js';
import { buildControlApi } from './control-api.js';
import { hostKeyFile } from './keys.js';
import { testbedLayout } from './layout.js';
import { readState } from './testbed-state.js';

/** How many nodes start (bind their servers, create their disks) at once. */
const NODE_START_CONCURRENCY = 16;

/**
 * The testbed daemon: hosts every virtual node of a site in one process, plus the control API.
 * Resolves once the site has been shut down (POST /shutdown, or `signal`).
 */
export async function runTestbedDaemon(
  dir: string,
  o: { signal: AbortSignal; logger: Logger },
): Promise<void> {
  const l = testbedLayout(dir);
  const state = readState(l);
  const cfg = loadSiteConfig(l.siteYaml);
  const engineKey = readFileSync(`${l.engineKey}.pub`, 'utf8').trim();
  const nodes = new Map<string, VirtualNode>();
  for (const c of cfg.clusters) {
    const cluster = clusterOf(cfg, c.name);
    for (const n of c.nodes) {
      nodes.set(
        n.name,
        new VirtualNode({
          name: n.name,
          address: n.address,
          sshPort: cluster.sshPort,
          cluster: c.name,
          dir: path.join(l.nodesDir, n.name),
          bootDir: cfg.bootDir,
          pxeFileNaming: cfg.pxeFileNaming,
          deployKernel: cluster.deployEnv.kernel,
          markerPort: cfg.markerPort,
          hostKey: readFileSync(hostKeyFile(l, n.name)),
          engineKey,
          productionImage: state.productionImage,
          partitioning: cluster.partitioning,
          hardware: {
            bootDelayMs: state.bootDelayMs,
            ...(state.firmwareDelayMs === undefined ? {} : { firmwareDelayMs: state.firmwareDelayMs }),
            ...(state.nicBytesPerSec === undefined ? {} : { nicBytesPerSec: state.nicBytesPerSec }),
          },
          logger: o.logger.child({ node: n.name }),
        }),
      );
    }
  }

  let ready = false;
  /** Nodes started and powered on so far (kaploy testbed up's progress). */
  let started = 0;
  let startError: string | undefined;
  let stopping: Promise<void> | undefined;
  let resolveDone: () => void = () => {};
  const done = new Promise<void>((r) => {
    resolveDone = r;
  });
  const shutdown = (): Promise<void> => {
    stopping ??= (async () => {
      o.logger.info('shutting down the virtual site');
      await pMap(
        nodes.entries(),
        ([name, n]) => n.stop().catch((e) => o.logger.warn({ node: name, err: e }, 'stop failed')),
        {
          concurrency: NODE_START_CONCURRENCY,
        },
      );
      await app.close().catch((e) => o.logger.warn({ err: e }, 'closing the control API failed'));
      resolveDone();
    })();
    return stopping;
  };

  const app = buildControlApi({
    nodes,
    logger: o.logger,
    health: () => ({ ready, started, ...(startError ? { error: startError } : {}) }),
    onShutdown: () => void shutdown(),
    token: readToken(l.bmcToken, `run kaploy testbed up --dir ${l.dir}`),
  });
  await app.listen({ host: '127.0.0.1', port: state.bmcPort });
  o.signal.addEventListener('abort', () => void shutdown(), { once: true });
  o.logger.info({ port: state.bmcPort, nodes: nodes.size }, 'control API listening; starting nodes');

  try {
    // Start then power on, as an operator would after racking: nodes boot what the PXE default says.
    await pMap(
      nodes.values(),
      async (n) => {
        await n.start();
        await n.powerOn();
        started++;
      },
      { concurrency: NODE_START_CONCURRENCY, signal: o.signal },
    );
    ready = true;
    o.logger.info('all nodes started and powered on');
  } catch (e) {
    startError = errorMessage(e);
    o.logger.error({ err: e }, 'starting the nodes failed');
    await shutdown();
  }
  await done;
  if (startError) throw new Error(startError);
}
