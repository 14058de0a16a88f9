import { setTimeout as sleep } from 'node:timers/promises';
import { describe, expect, it } from 'vitest';
import { GarbageCadence } from '../../src/client/garbage-cadence.js';

const MiB = 1024 * 1024;

describe('GarbageCadence', () => {
  it('collects once every `everyBytes` read, not before, and counts again from there', () => {
    let collections = 0;
    const cadence = new GarbageCadence(1000, () => collections++);
    cadence.read(999);
    expect(collections).toBe(0);
    cadence.read(1);
    expect(collections).toBe(1);
    cadence.read(999);
    expect(collections).toBe(1);
    cadence.read(5000);
    expect(collections).toBe(2);
  });

  it("frees a stream's dead read buffers with V8's own collector", async () => {
    const base = process.memoryUsage().arrayBuffers;
    // What a streamed body leaves: 16 buffers of 1 MiB, each dead once written out.
    let kept = 0;
    for (let i = 0; i < 16; i++) kept += Buffer.alloc(MiB, i).length;
    expect(kept).toBe(16 * MiB);
    const cadence = new GarbageCadence(16 * MiB);
    cadence.read(16 * MiB);
    // V8 releases the buffers' memory on a thread of its own, just after the collection.
    const held = () => process.memoryUsage().arrayBuffers - base;
    for (let i = 0; i < 100 && held() >= 4 * MiB; i++) await sleep(10);
    expect(held()).toBeLessThan(4 * MiB);
  });

  it('does not expose the collector to the program', () => {
    new GarbageCadence(1).read(1);
    expect((globalThis as { gc?: unknown }).gc).toBeUndefined();
  });
});
