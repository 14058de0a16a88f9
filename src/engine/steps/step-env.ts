import { KaployError } from '../../common/errors.js';
import type { ClusterConfig, NodeConfig } from '../../common/site-config-types.js';
import { dev } from '../../formats/node-commands.js';
import type { SshTarget } from '../ssh/types.js';
import { DEFAULT_TUNING, type DeploymentSpec, type StepDeps, type StepTuning } from './deployment-spec.js';

/** The deployment spec resolved once: node and cluster lookups, targets and device names. */
export class StepEnv {
  readonly tuning: StepTuning;
  private readonly nodes = new Map<string, NodeConfig>();
  private readonly clusters = new Map<string, ClusterConfig>();

  constructor(
    readonly spec: DeploymentSpec,
    readonly deps: StepDeps,
  ) {
    this.tuning = { ...DEFAULT_TUNING, ...deps.tuning };
    for (const c of spec.site.clusters) this.clusters.set(c.name, c);
    for (const n of spec.nodes) {
      if (!this.clusters.has(n.cluster)) {
        throw new KaployError('KAPLOY_CONFIG', `node ${n.name} belongs to unknown cluster ${n.cluster}`, {
          node: n.name,
        });
      }
      this.nodes.set(n.name, n);
    }
  }

  get pool() {
    return this.deps.pool;
  }

  node(name: string): NodeConfig {
    const n = this.nodes.get(name);
    if (!n)
      throw new KaployError('KAPLOY_INTERNAL', `node ${name} is not part of deployment ${this.spec.wid}`, {
        node: name,
      });
    return n;
  }

  cluster(name: string): ClusterConfig {
    return this.clusters.get(this.node(name).cluster) as ClusterConfig;
  }

  target(name: string): SshTarget {
    const n = this.node(name);
    return {
      node: n.name,
      host: n.address,
      port: this.cluster(name).sshPort,
      username: this.spec.site.ssh.user,
    };
  }

  blockDevice(name: string): string {
    return this.cluster(name).partitioning.blockDevice;
  }

  deployPartition(name: string): number {
    return this.spec.partition ?? this.cluster(name).partitioning.deploy;
  }

  deployDevice(name: string): string {
    return dev(this.blockDevice(name), this.deployPartition(name));
  }

  partDevice(name: string, which: 'swap' | 'tmp' | 'prod'): string {
    const c = this.cluster(name);
    return dev(c.partitioning.blockDevice, c.partitioning[which]);
  }

  get extractDir(): string {
    return this.spec.site.extractDir;
  }

  get nodeConcurrency(): number {
    return this.tuning.nodeConcurrency ?? this.spec.site.windows.check;
  }
}
