import { randomBytes } from 'node:crypto';
import { mkdir, rename, rm, writeFile } from 'node:fs/promises';
import path from 'node:path';

/**
 * Writes a PXE profile atomically (temp file in the same directory, then rename), so a node
 * fetching its profile while the engine switches it reads either the old or the new one, never half.
 */
export async function writeProfileAtomic(bootDir: string, fileName: string, content: string): Promise<void> {
  if (fileName.includes('/') || fileName === '' || fileName.startsWith('.')) {
    throw new Error(`invalid PXE profile name '${fileName}'`);
  }
  await mkdir(bootDir, { recursive: true });
  const final = path.join(bootDir, fileName);
  const tmp = path.join(bootDir, `.${fileName}.${randomBytes(6).toString('hex')}.tmp`);
  try {
    await writeFile(tmp, content, { mode: 0o644 });
    await rename(tmp, final);
  } catch (e) {
    await rm(tmp, { force: true });
    throw e;
  }
}
