import path from 'node:path';

/** Where everything of one virtual site lives under its directory (DIR). */
export interface TestbedLayout {
  dir: string;
  state: string; // testbed.json: what `up` decided (site, ports, pid of the daemon)
  log: string; // the daemon's log
  siteYaml: string;
  nodeFile: string;
  knownHosts: string;
  sshConfig: string;
  clientYaml: string;
  env: string;
  keysDir: string;
  engineKey: string;
  /** The bearer token of the daemon's control API (the BMC), owner-only. */
  bmcToken: string;
  userKey: string;
  hostKeysDir: string;
  tokensDir: string;
  /** `up --tls`: the site's CA and the engine's certificate and key (mode 700). */
  tlsDir: string;
  tftpDir: string;
  bootDir: string;
  imagesDir: string;
  envsDir: string;
  engineDataDir: string;
  nodesDir: string; // per-node sandboxes
  binDir: string;
}

export const DEFAULT_TESTBED_DIR = './.kaploy/testbed';

export function testbedLayout(dir: string): TestbedLayout {
  const d = path.resolve(dir);
  const p = (...s: string[]) => path.join(d, ...s);
  return {
    dir: d,
    state: p('testbed.json'),
    log: p('testbed.log'),
    siteYaml: p('site.yaml'),
    nodeFile: p('nodes'),
    knownHosts: p('known_hosts'),
    sshConfig: p('ssh_config'),
    clientYaml: p('client.yaml'),
    env: p('env'),
    keysDir: p('keys'),
    engineKey: p('keys', 'engine'),
    bmcToken: p('keys', 'bmc-token'),
    userKey: p('keys', 'user'),
    hostKeysDir: p('keys', 'hosts'),
    tokensDir: p('tokens'),
    tlsDir: p('tls'),
    tftpDir: p('tftp'),
    bootDir: p('tftp', 'pxelinux.cfg'),
    imagesDir: p('images'),
    envsDir: p('envs'),
    engineDataDir: p('engine'),
    nodesDir: p('vnodes'),
    binDir: p('bin'),
  };
}
