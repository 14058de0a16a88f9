import { readFileSync } from 'node:fs';
import path from 'node:path';
import { fileURLToPath } from 'node:url';

/** The package root: this file is src/testbed/manager/*.ts or dist/testbed/manager/*.js. */
const packageRoot = path.resolve(path.dirname(fileURLToPath(import.meta.url)), '..', '..', '..');

/** The built kaploy CLI (the console command in site.yaml and the daemon run from dist/). */
export const kaployJs = path.join(packageRoot, 'dist', 'cli', 'kaploy.js');
export const daemonJs = path.join(packageRoot, 'dist', 'testbed', 'manager', 'daemon-main.js');

/** package.json `bin`: command name -> absolute script path. */
export function packageBins(): Map<string, string> {
  const pkg = JSON.parse(readFileSync(path.join(packageRoot, 'package.json'), 'utf8')) as {
    bin?: Record<string, string>;
  };
  return new Map(Object.entries(pkg.bin ?? {}).map(([name, rel]) => [name, path.join(packageRoot, rel)]));
}
