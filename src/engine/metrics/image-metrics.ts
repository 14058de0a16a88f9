import { Counter, type Registry } from 'prom-client';

/** How an image URL was found: in the cache by checksum, still valid (304), or downloaded. */
export type CacheLookup = 'hit' | 'revalidated' | 'miss';

/** The image cache and the bytes the engine moves: downloads into the cache, broadcasts to nodes. */
export class ImageMetrics {
  readonly #hits: Counter<'how'>;
  readonly #misses: Counter;
  readonly #downloaded: Counter;
  readonly #broadcast: Counter<'method'>;

  constructor(registry: Registry) {
    const registers = [registry];
    this.#hits = new Counter({
      name: 'kaploy_image_cache_hits_total',
      help: 'Image URLs served from the cache (how: checksum, the recorded checksum was in the cache; revalidated, the server answered 304).',
      labelNames: ['how'],
      registers,
    });
    this.#misses = new Counter({
      name: 'kaploy_image_cache_misses_total',
      help: 'Image URLs downloaded (shared downloads of one URL count once per caller).',
      registers,
    });
    this.#downloaded = new Counter({
      name: 'kaploy_image_download_bytes_total',
      help: 'Bytes of images downloaded into the cache (each download once, however many callers share it).',
      registers,
    });
    this.#broadcast = new Counter({
      name: 'kaploy_image_broadcast_bytes_total',
      help: 'Bytes of images the engine sent to nodes, by broadcast method (a chain counts what the engine fed its first relay).',
      labelNames: ['method'],
      registers,
    });
  }

  lookup(how: CacheLookup): void {
    if (how === 'miss') this.#misses.inc();
    else this.#hits.inc({ how: how === 'hit' ? 'checksum' : 'revalidated' });
  }

  downloaded(bytes: number): void {
    this.#downloaded.inc(bytes);
  }

  broadcast(method: string, bytes: number): void {
    this.#broadcast.inc({ method }, bytes);
  }
}
