#!/usr/bin/env node
// Benchmark: send_environment of a 64 MiB tar.gz image to N virtual nodes whose NIC is limited
// (default 8 MiB/s in and out), with the chain broadcast (Kastafior-like) and with unicast from the
// engine (one SSH stream per node, 8 at once). Every node really decompresses and extracts the image
// into its deploy partition (kept in /dev/shm, so the host's disk is not what is measured). Prints
// wall time, the NIC model's lower bound, CPU time of this process (engine + virtual nodes: SSH,
// relays, NIC model), the host's busy and iowait share over the run (all processes: the sandboxed
// gzip | tar, and whatever else the machine runs), and which bound the run hit. Needs `npm run build`.
//
//   node bench/broadcast-chain.mjs [N...] [--mib 64] [--nic-mib 8] [--methods chain,unicast,tree,kascade,taktuk] [--unicast-max 64]
import { execFile, execFileSync } from 'node:child_process';
import { mkdirSync, mkdtempSync, readFileSync, rmSync, statSync, writeFileSync } from 'node:fs';
import { createServer } from 'node:http';
import os from 'node:os';
import path from 'node:path';
import ssh2 from 'ssh2';

const { createStepExecutor } = await import('../dist/deploy/steps/index.js');
const { MemoryHostKeyStore, SshPool } = await import('../dist/deploy/ssh/index.js');
const { VirtualNode } = await import('../dist/testbed/node/index.js');
const { ensureTestImages } = await import('../dist/testbed/images/index.js');
const { silentLogger } = await import('../dist/common/logger.js');

const args = process.argv.slice(2);
const opt = (name, dflt) => {
  const i = args.indexOf(`--${name}`);
  return i >= 0 ? args.splice(i, 2)[1] : dflt;
};
const MIB = Number(opt('mib', '64'));
const NIC = Number(opt('nic-mib', '8')) * 1024 * 1024;
const methods = opt('methods', 'chain,unicast').split(',');
const unicastMax = Number(opt('unicast-max', '64'));
const sizes = args.length ? args.map(Number) : [1, 8, 32, 64];
const UNICAST_CONCURRENCY = 8;

const USER_HZ = 100;
function cpu() {
  const stat = readFileSync('/proc/self/stat', 'utf8');
  const f = stat.slice(stat.lastIndexOf(')') + 2).split(' ');
  // Host-wide jiffies: user nice system idle iowait irq softirq steal.
  const h = readFileSync('/proc/stat', 'utf8').split('\n')[0].split(/\s+/).slice(1, 9).map(Number);
  const total = h.reduce((a, b) => a + b, 0);
  return {
    self: (Number(f[11]) + Number(f[12])) / USER_HZ,
    hostTotal: total,
    hostIdle: h[3],
    hostIowait: h[4],
  };
}

// Node disks on a tmpfs of our own (root only; bubblewrap cannot bind paths under /dev/shm), so
// that the host's disk is not what is measured. Without it, say so in the output.
const work = mkdtempSync(path.join(os.tmpdir(), 'kaploy-bcast-'));
let onTmpfs = false;
try {
  execFileSync('mount', ['-t', 'tmpfs', '-o', 'size=12g,mode=0755', 'kaploy-bench', work], {
    stdio: 'ignore',
  });
  onTmpfs = true;
} catch {
  // not root, or no mount: node disks stay on the host's disk
}
// The image: a tar of MIB MiB of incompressible data (so the NIC, not gzip's ratio, sets the bytes
// on the wire), gzip -1 (cheap to decompress: the host CPU should not be the bound).
const img = path.join(work, 'image.tgz');
{
  const tree = path.join(work, 'tree');
  mkdirSync(path.join(tree, 'data'), { recursive: true });
  execFileSync('sh', [
    '-c',
    `head -c ${MIB * 1024 * 1024} /dev/urandom > ${tree}/data/blob && tar -C ${tree} -cf - . | gzip -1 > ${img}`,
  ]);
}
const imgBytes = statSync(img).size;
const images = await ensureTestImages();

async function site(n) {
  const dir = mkdtempSync(path.join(work, `site-${n}-`));
  const b = 100 + Math.floor(Math.random() * 150);
  const c = Math.floor(Math.random() * 250);
  const nodes = Array.from({ length: n }, (_, i) => ({
    name: `node-${i + 1}.bench`,
    address: `127.${b}.${c}.${i + 1}`,
    cluster: 'vc',
  }));
  const sshPort = 20000 + Math.floor(Math.random() * 10000);
  const byName = new Map();
  const bmc = createServer((req, res) => {
    const u = new URL(req.url ?? '/', 'http://bmc');
    const m = /^\/nodes\/([^/]+)\/reboot$/.exec(u.pathname);
    const vn = m && byName.get(decodeURIComponent(m[1]));
    if (!vn) return res.writeHead(404).end();
    vn.reboot(u.searchParams.get('level') ?? 'soft').then(
      () => res.writeHead(200).end('ok'),
      (e) => res.writeHead(500).end(e.message),
    );
  });
  await new Promise((r) => bmc.listen(0, '127.0.0.1', r));
  const url = `http://127.0.0.1:${bmc.address().port}/nodes/{node}/reboot`;
  const level = (l) => ({ kind: 'http', method: 'POST', url: `${url}?level=${l}` });
  const cfg = {
    source: '<bench>',
    site: 'bench',
    listen: { host: '127.0.0.1', port: 0 },
    dataDir: path.join(dir, 'data'),
    admins: ['root'],
    bootDir: path.join(dir, 'tftp', 'pxelinux.cfg'),
    pxeFileNaming: 'ip_hex',
    imageDirs: [],
    ssh: { keyFile: '', user: 'root', connectTimeoutMs: 10000, keepaliveIntervalMs: 5000, maxChannels: 8 },
    windows: { reboot: 64, check: 64 },
    extractDir: '/mnt/dest',
    markerPort: 25300,
    production: { environment: 'prod-env', user: 'deploy' },
    clusters: [
      {
        name: 'vc',
        nodes,
        sshPort,
        partitioning: { blockDevice: '/dev/sda', swap: 1, prod: 2, deploy: 3, tmp: 5 },
        deployEnv: { kernel: 'kaploy/deploy-vmlinuz', initrd: 'kaploy/deploy-initrd.img', params: '' },
        timeouts: { reboot: '120', kexec: '60' },
        automata: '',
        commands: {
          reboot: { soft: level('soft'), hard: level('hard'), very_hard: level('very_hard') },
          powerOn: {},
          powerOff: {},
        },
      },
    ],
  };
  mkdirSync(cfg.bootDir, { recursive: true });
  const engine = ssh2.utils.generateKeyPairSync('ed25519');
  const vns = nodes.map((nd) => {
    const v = new VirtualNode({
      name: nd.name,
      address: nd.address,
      sshPort,
      cluster: 'vc',
      dir: path.join(dir, 'nodes', nd.name),
      bootDir: cfg.bootDir,
      pxeFileNaming: 'ip_hex',
      deployKernel: 'kaploy/deploy-vmlinuz',
      markerPort: 25300,
      hostKey: Buffer.from(ssh2.utils.generateKeyPairSync('ed25519').private),
      engineKey: engine.public,
      productionImage: images.prodTgz,
      partitioning: { blockDevice: '/dev/sda', swap: 1, prod: 2, deploy: 3, tmp: 5 },
      hardware: { bootDelayMs: 100, nicBytesPerSec: NIC },
    });
    byName.set(nd.name, v);
    return v;
  });
  for (const v of vns) await v.start();
  const keyFile = path.join(dir, 'engine-key');
  writeFileSync(keyFile, engine.private, { mode: 0o600 });
  const pool = new SshPool({
    privateKey: engine.private,
    hostKeys: new MemoryHostKeyStore(),
    connectTimeoutMs: 20000,
  });
  const spec = {
    wid: 'D-bench',
    user: 'bench',
    site: cfg,
    nodes,
    env: {
      name: 'bench',
      version: 1,
      os: 'linux',
      image: { path: img, kind: 'tar', compression: 'gzip', md5: '' },
      kernel: '/boot/vmlinuz',
      filesystem: 'ext4',
      postinstalls: [],
    },
    disableBootloaderInstall: false,
    disableDiskPartitioning: false,
    debug: false,
  };
  const tuning = {
    waitRebootInitialDelayMs: 200,
    waitRebootPollMs: 200,
    unicastConcurrency: UNICAST_CONCURRENCY,
    relayConnectTimeoutMs: 60000,
  };
  return {
    names: nodes.map((x) => x.name),
    // Every node must hold the whole extracted blob, whatever carried it.
    verify() {
      const bad = nodes.filter(
        (nd) =>
          statSync(path.join(dir, 'nodes', nd.name, 'disk', 'sda3', 'data', 'blob'), {
            throwIfNoEntry: false,
          })?.size !==
          MIB * 1024 * 1024,
      );
      if (bad.length) throw new Error(`${bad.length} nodes lack the extracted image (first: ${bad[0].name})`);
    },
    executor: (broadcast) => createStepExecutor(spec, { pool, logger: silentLogger, tuning, broadcast }),
    // TakTuk over OpenSSH to the same nodes: a flat deployment (-d -1: the nodes' sandboxes have no
    // SSH key to reach each other), the image sent once per node by TakTuk's own broadcast.
    taktuk: () =>
      new Promise((resolve, reject) => {
        const connector = `ssh -o StrictHostKeyChecking=no -o UserKnownHostsFile=/dev/null -o LogLevel=ERROR -o BatchMode=yes -i ${keyFile} -p ${sshPort}`;
        const args = ['-d', '-1', '-c', connector, '-l', 'root'];
        for (const nd of nodes) args.push('-m', nd.address);
        args.push(
          'broadcast',
          'exec',
          '[',
          'gzip -cd | tar -C /mnt/dest --numeric-owner -xf -',
          ']',
          ';',
          'broadcast',
          'input',
          'file',
          '[',
          img,
          ']',
        );
        execFile('taktuk', args, { maxBuffer: 16 * 1024 * 1024 }, (err, stdout, stderr) => {
          const bad = /status [1-9]|failed|error/i.test(stdout + stderr);
          if (err || bad) reject(new Error(`taktuk: ${err?.message ?? ''} ${(stdout + stderr).slice(-500)}`));
          else resolve();
        });
      }),
    async close() {
      await pool.closeAll();
      for (const v of vns) await v.stop();
      await new Promise((r) => bmc.close(() => r()));
      rmSync(dir, { recursive: true, force: true });
    },
  };
}

const ctx = (macro, impl, micro, signal) => ({
  wid: 'D-bench',
  macro,
  impl,
  micro,
  signal,
  logger: silentLogger,
  attempt: 0,
  debug: () => {},
});

async function run(ex, names, macro, impl, micros) {
  let alive = names;
  const signal = new AbortController().signal;
  for (const m of micros) {
    const r = await ex.run(m, alive, ctx(macro, impl, m, signal));
    const ko = alive.filter((n) => !r.get(n)?.ok);
    if (ko.length)
      throw new Error(
        `${m} failed on ${ko.length} nodes: ${ko
          .slice(0, 3)
          .map((n) => `${n}: ${r.get(n)?.reason}`)
          .join('; ')}`,
      );
    alive = alive.filter((n) => r.get(n)?.ok);
  }
}

const PREP = [
  'switch_pxe',
  'reboot',
  'wait_reboot',
  'create_partition_table',
  'format_deploy_part',
  'mount_deploy_part',
];
const CLEAN = ['umount_deploy_part', 'format_deploy_part', 'mount_deploy_part'];
const rows = [];
const line = (s) => process.stdout.write(`${s}\n`);
line(
  `image ${(imgBytes / 1048576).toFixed(1)} MiB tar.gz (${MIB} MiB incompressible), node NIC ${(NIC / 1048576).toFixed(0)} MiB/s in and out, ${os.cpus().length} cores, node disks on ${onTmpfs ? 'tmpfs' : 'the host disk'}`,
);
line('method   N   wall_s  model_s  cpu_self_s  host_busy  host_iowait  bound');
process.on('exit', () => {
  if (onTmpfs) {
    try {
      execFileSync('umount', ['-l', work], { stdio: 'ignore' });
    } catch {}
  }
  rmSync(work, { recursive: true, force: true });
});
for (const n of sizes) {
  const s = await site(n);
  try {
    await run(s.executor(), s.names, 'SetDeploymentEnv', 'SetDeploymentEnvUntrusted', PREP);
    for (const method of methods) {
      if (method === 'unicast' && n > unicastMax) continue;
      await run(s.executor(), s.names, 'SetDeploymentEnv', 'SetDeploymentEnvUntrusted', CLEAN);
      const c0 = cpu();
      const t0 = process.hrtime.bigint();
      if (method === 'taktuk') await s.taktuk();
      else await run(s.executor(method), s.names, 'BroadcastEnv', 'BroadcastEnvChain', ['send_environment']);
      const wall = Number(process.hrtime.bigint() - t0) / 1e9;
      s.verify();
      const c1 = cpu();
      const one = imgBytes / NIC;
      // Chain: every byte crosses each NIC once, pipelined: ~one transfer. Unicast: the engine
      // streams to UNICAST_CONCURRENCY nodes at once, each at its NIC's rate.
      // Tree: an inner node's outbound rate is shared by its two children, so about two transfers.
      const model =
        method === 'chain' || method === 'kascade' || method === 'taktuk'
          ? one
          : method === 'tree'
            ? (n > 1 ? 2 : 1) * one
            : Math.ceil(n / UNICAST_CONCURRENCY) * one;
      const self = c1.self - c0.self;
      const dt = c1.hostTotal - c0.hostTotal;
      const busy = 1 - (c1.hostIdle - c0.hostIdle + (c1.hostIowait - c0.hostIowait)) / dt;
      const iowait = (c1.hostIowait - c0.hostIowait) / dt;
      const bound =
        wall <= model * 1.25
          ? 'NIC model'
          : busy > 0.85
            ? 'host CPU'
            : iowait > 0.2
              ? 'host disk'
              : 'latency/other';
      const row = { method, n, wall, model, self, busy, iowait, bound };
      rows.push(row);
      line(
        `${method.padEnd(8)} ${String(n).padStart(2)}  ${wall.toFixed(1).padStart(6)}  ${model.toFixed(1).padStart(7)}  ${self.toFixed(1).padStart(10)}  ${(busy * 100).toFixed(0).padStart(8)}%  ${(iowait * 100).toFixed(0).padStart(10)}%  ${bound}`,
      );
    }
  } finally {
    await s.close();
  }
}
writeFileSync(path.join(os.tmpdir(), 'kaploy-broadcast-chain.json'), JSON.stringify(rows, null, 2));
if (onTmpfs) execFileSync('umount', [work]);
rmSync(work, { recursive: true, force: true });
