import os from 'node:os';
import path from 'node:path';
import { stringify } from 'yaml';
import { parseSiteConfig, type SiteConfig } from '../../common/site-config.js';

/**
 * The site used by `kaploy server` without --config: site `local`, no nodes (environments and
 * rights only), data in ~/.kaploy/server (the SQLite store, the image cache, image_dirs `images/`),
 * admins root and the user running the server.
 */
export function defaultSiteConfig(home = os.homedir()): SiteConfig {
  const dataDir = path.join(home, '.kaploy', 'server');
  const doc = {
    site: 'local',
    server: { host: '127.0.0.1', port: 25300 },
    data_dir: dataDir,
    admins: [...new Set(['root', os.userInfo().username])],
    boot_dir: path.join(dataDir, 'tftp', 'pxelinux.cfg'),
    image_dirs: [path.join(dataDir, 'images')],
    clusters: [{ name: 'default', nodes: [] }],
  };
  return parseSiteConfig(stringify(doc), '<embedded>', dataDir);
}
