import type { Logger } from '../../common/logger.js';
import type { SshTarget } from '../ssh/types.js';
import type { NodeShell } from '../steps/deployment-spec.js';
import type { NodeResult } from '../workflow/types.js';

/** One receiver of the image: where to reach it and the command that writes the stream to its disk. */
export interface BroadcastNode {
  name: string;
  target: SshTarget;
  /** Address the previous relay (or the engine) connects to. */
  address: string;
  /** extractTar / writeDd command line reading the image on stdin. */
  sink: string;
}

export interface BroadcastContext {
  pool: NodeShell;
  signal: AbortSignal;
  logger: Logger;
  debug(node: string, text: string): void;
  /** Told of the image's bytes as the engine sends them (to any node: unicast counts every copy). */
  sent?(bytes: number): void;
}

export interface BroadcastOptions {
  /** The compressed image, a local readable file. */
  imagePath: string;
  /** TCP port of the relays (several rounds use successive ports). */
  relayPort: number;
  /** How long the engine keeps retrying to connect to a relay that is starting. */
  relayConnectTimeoutMs: number;
  /** Unicast: images sent at once. */
  concurrency: number;
}

export type BroadcastResults = Map<string, NodeResult>;
