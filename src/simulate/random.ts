/**
 * Seeded randomness keyed by what is drawn, not by when: draw(seed, key) hashes the key (node,
 * step, attempt...) with the seed. A node's boot time is then the same whatever order the events
 * fire in, and two what-if variants of one seed see the same hardware (common random numbers), so
 * their difference is the variant's, not the dice's.
 */

/** FNV-1a of the key, mixed with the seed, finished with a murmur3 avalanche: uniform in [0, 1). */
export function draw(seed: number, key: string): number {
  let h = (0x811c9dc5 ^ seed) >>> 0;
  for (let i = 0; i < key.length; i++) {
    h ^= key.charCodeAt(i);
    h = Math.imul(h, 0x01000193);
  }
  h ^= h >>> 16;
  h = Math.imul(h, 0x85ebca6b);
  h ^= h >>> 13;
  h = Math.imul(h, 0xc2b2ae35);
  h ^= h >>> 16;
  return (h >>> 0) / 4294967296;
}

/** A duration distribution in seconds: mean and standard deviation of a normal, clamped to [min, max]. */
export interface Distribution {
  mean: number;
  sd: number;
  min: number;
  max: number;
}

/** A sample of `d` from two uniform draws (Box-Muller); sd 0 is the mean itself. */
export function sample(d: Distribution, seed: number, key: string): number {
  if (d.sd === 0) return Math.min(d.max, Math.max(d.min, d.mean));
  const u1 = Math.max(draw(seed, `${key}#1`), Number.MIN_VALUE);
  const u2 = draw(seed, `${key}#2`);
  const z = Math.sqrt(-2 * Math.log(u1)) * Math.cos(2 * Math.PI * u2);
  return Math.min(d.max, Math.max(d.min, d.mean + d.sd * z));
}
