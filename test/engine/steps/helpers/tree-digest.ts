import { createHash } from 'node:crypto';
import { lstat, readdir, readFile, readlink } from 'node:fs/promises';
import path from 'node:path';

/** A digest of a directory tree (names, types, modes, contents, link targets): equal trees, equal digests. */
export async function treeDigest(root: string): Promise<string> {
  const h = createHash('sha256');
  const walk = async (rel: string): Promise<void> => {
    const entries = (await readdir(path.join(root, rel))).sort();
    for (const e of entries) {
      const r = path.join(rel, e);
      const st = await lstat(path.join(root, r));
      h.update(`${r}\0${st.mode}\0`);
      if (st.isSymbolicLink()) h.update(await readlink(path.join(root, r)));
      else if (st.isFile()) h.update(await readFile(path.join(root, r)));
      else if (st.isDirectory()) await walk(r);
      h.update('\0');
    }
  };
  await walk('');
  return h.digest('hex');
}
