import path from 'node:path';
import { fileURLToPath } from 'node:url';

/** The programs the hook tests spawn, from dist/ (built once for the run by test/global/build-dist.ts). */
export const ROOT = path.resolve(path.dirname(fileURLToPath(import.meta.url)), '../../..');
export const KAPLOY = path.join(ROOT, 'dist', 'cli', 'kaploy.js');
export const HOOKS_DIR = path.join(ROOT, 'hooks');
