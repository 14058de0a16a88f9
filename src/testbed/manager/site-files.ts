import { chmod, mkdir, writeFile } from 'node:fs/promises';
import path from 'node:path';
import { stringify } from 'yaml';
import { shq } from '../../common/shell-quote.js';
import { renderProfile } from '../../formats/pxe-profile.js';
import { fakeKernel } from '../images/rootfs-tree.js';
import type { PlannedNode } from './addresses.js';
import type { TestbedLayout } from './layout.js';
import { packageBins } from './package-paths.js';
import { DEPLOY_INITRD, DEPLOY_KERNEL, PARTITIONING } from './site-yaml.js';
import { engineUrl, type TestbedState } from './testbed-state.js';
import { tlsFiles } from './tls-files.js';

/** The node file, one name per line, as OAR writes $OAR_NODEFILE. */
const renderNodeFile = (nodes: PlannedNode[]) => nodes.map((n) => `${n.name}\n`).join('');

/** OpenSSH writes `[host]:port` for ports other than 22. */
const hostPattern = (host: string, port: number) => (port === 22 ? host : `[${host}]:${port}`);

function renderKnownHosts(nodes: PlannedNode[], port: number, hostKeys: Map<string, string>): string {
  return nodes
    .map((n) => `${hostPattern(n.address, port)},${hostPattern(n.name, port)} ${hostKeys.get(n.name)}\n`)
    .join('');
}

/**
 * `ssh -F DIR/ssh_config node-1.SITE`: one Host block per node (names are not resolvable).
 * The user key works once deployed with `kadeploy3 -k DIR/keys/user.pub`; the engine key, like a
 * site admin's, reaches production nodes.
 */
function renderSshConfig(l: TestbedLayout, nodes: PlannedNode[], port: number): string {
  const out = [`# Virtual site: ssh -F ${l.sshConfig} <node>`, ''];
  for (const n of nodes) {
    out.push(
      `Host ${n.name}`,
      `  HostName ${n.address}`,
      `  Port ${port}`,
      '  User root',
      `  IdentityFile ${l.userKey}`,
      `  IdentityFile ${l.engineKey}`,
      '  IdentitiesOnly yes',
      `  UserKnownHostsFile ${l.knownHosts}`,
      '  StrictHostKeyChecking yes',
      '',
    );
  }
  return out.join('\n');
}

function renderClientYaml(l: TestbedLayout, s: TestbedState): string {
  // With --tls the clients verify the engine against the site's CA, as on a site with its own CA.
  const server = { url: engineUrl(s), ...(s.tls ? { ca: tlsFiles(l).caCert } : {}) };
  return stringify({ default: s.site, servers: { [s.site]: server } });
}

/** `. DIR/env` points every kaploy command at this site. */
function renderEnv(l: TestbedLayout, s: TestbedState): string {
  const ex = (k: string, v: string) => `export ${k}=${shq(v)}`;
  return [
    `# Virtual site '${s.site}': . ${shq(l.env)}`,
    ex('KAPLOY_TESTBED_DIR', l.dir),
    ex('KAPLOY_SITE_CONFIG', l.siteYaml),
    ex('KAPLOY_CLIENT_CONFIG', l.clientYaml),
    ex('KAPLOY_NODEFILE', l.nodeFile),
    ex('OAR_NODEFILE', l.nodeFile),
    ex('OAR_FILE_NODES', l.nodeFile),
    `export KAPLOY_TOKEN_FILE=${shq(l.tokensDir)}/"$(id -un)"`,
    ex('KAPLOY_ADMIN_TOKEN_FILE', path.join(l.tokensDir, 'kaadmin')),
    `export PATH=${shq(l.binDir)}:"$PATH"`,
    '',
  ].join('\n');
}

/** DIR/bin: one wrapper per package.json bin, so kaploy, kadeploy3, kaenv3... resolve after `. DIR/env`. */
async function writeBinWrappers(l: TestbedLayout): Promise<void> {
  await mkdir(l.binDir, { recursive: true });
  for (const [name, script] of packageBins()) {
    const f = path.join(l.binDir, name);
    await writeFile(f, `#!/bin/sh\nexec ${shq(process.execPath)} ${shq(script)} "$@"\n`);
    await chmod(f, 0o755);
  }
}

/** The TFTP tree: the deployment environment's kernel and initrd, and a default profile booting production. */
async function writeTftp(l: TestbedLayout): Promise<void> {
  const spec = {
    name: 'kaploy-deploy-env',
    version: '1.0',
    prettyName: 'kaploy deployment environment',
    hostname: 'deploy',
  };
  await mkdir(path.join(l.tftpDir, path.dirname(DEPLOY_KERNEL)), { recursive: true });
  await writeFile(path.join(l.tftpDir, DEPLOY_KERNEL), fakeKernel(spec, 'vmlinuz'));
  await writeFile(path.join(l.tftpDir, DEPLOY_INITRD), fakeKernel(spec, 'initrd.img'));
  await mkdir(l.bootDir, { recursive: true });
  await writeFile(
    path.join(l.bootDir, 'default'),
    renderProfile({ kind: 'local', partition: PARTITIONING.prod }, 'production'),
  );
}

export async function writeSiteFiles(
  l: TestbedLayout,
  s: TestbedState,
  nodes: PlannedNode[],
  hostKeys: Map<string, string>,
  siteYaml: string,
): Promise<void> {
  await writeFile(l.siteYaml, siteYaml);
  await writeFile(l.nodeFile, renderNodeFile(nodes));
  await writeFile(l.knownHosts, renderKnownHosts(nodes, s.sshPort, hostKeys));
  await writeFile(l.sshConfig, renderSshConfig(l, nodes, s.sshPort));
  await writeFile(l.clientYaml, renderClientYaml(l, s));
  await writeFile(l.env, renderEnv(l, s));
  // Secrets of the engine's users live here, readable by their owner only (the client checks).
  await mkdir(l.tokensDir, { recursive: true, mode: 0o700 });
  await chmod(l.tokensDir, 0o700);
  await writeBinWrappers(l);
  await writeTftp(l);
}
