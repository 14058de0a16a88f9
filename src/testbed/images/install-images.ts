import { copyFile, link, mkdir, rm } from 'node:fs/promises';
import path from 'node:path';
import { ensureTestImages, imageFiles, type TestImages } from './build-images.js';

/**
 * Puts the cached test images into a site's image directory (an `image_dirs` entry, so they can
 * be named as `server://PATH`). Hard links cost nothing; a copy when the cache is on another device.
 */
export async function installTestImages(
  imagesDir: string,
  o: { cacheDir?: string; signal?: AbortSignal } = {},
): Promise<TestImages> {
  const cached = await ensureTestImages(o);
  await mkdir(imagesDir, { recursive: true });
  const installed: TestImages = { ...cached, dir: imagesDir };
  for (const k of Object.keys(cached) as (keyof TestImages)[]) {
    if (k !== 'dir') installed[k] = path.join(imagesDir, path.basename(cached[k]));
  }
  const from = imageFiles(cached);
  const to = imageFiles(installed);
  for (let i = 0; i < from.length; i++) {
    const src = from[i] as string;
    const dst = to[i] as string;
    await rm(dst, { force: true });
    await link(src, dst).catch((e: NodeJS.ErrnoException) => {
      if (e.code === 'EXDEV' || e.code === 'EPERM') return copyFile(src, dst);
      throw e;
    });
  }
  return installed;
}
