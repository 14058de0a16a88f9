import { humanBytes, progressThrottle } from '../environments/download-progress.js';

/** Where a broadcast's lines and byte counts go. */
export interface BroadcastProgressSinks {
  /** A line for the user's deployment log. */
  note?(text: string): void;
  /** Bytes sent, for the engine's metrics. */
  count?(bytes: number): void;
}

/**
 * The bytes and rate of one broadcast, for the users who wait on it: a line every ~2 s in the
 * deployment log (`Broadcast (kascade): 120.0 MB sent, 11.2 MB/s`), and one at the end. Counts the
 * bytes the engine sends, not what each node received: in a chain that is one copy, fed to the
 * first relay; with unicast one copy per node; a kascade round after a failure sends again.
 */
export function broadcastProgress(
  method: string,
  imageBytes: number,
  sinks: BroadcastProgressSinks,
): { sent(bytes: number): void; end(): void } {
  let total = 0;
  // Every ~2 s: a broadcast runs inside the deployment, whose node steps already show it moving.
  const throttle = progressThrottle(
    method,
    undefined,
    (p) => {
      const rate = `${humanBytes(p.rate)}/s`;
      sinks.note?.(
        p.done
          ? `Broadcast (${method}): ${humanBytes(p.bytes)} sent, ${rate} (image ${humanBytes(imageBytes)})`
          : `Broadcast (${method}): ${humanBytes(p.bytes)} sent, ${rate}`,
      );
    },
    2_000,
  );
  return {
    sent(bytes) {
      total += bytes;
      sinks.count?.(bytes);
      throttle.bytes(total);
    },
    end() {
      throttle.end(total);
    },
  };
}
