#!/usr/bin/env node
// Benchmark: send_environment of a tar.gz image (default 64 MiB of incompressible data) to N
// virtual nodes whose NIC model is limited (default 1 MiB/s in and out per node), with the chain
// broadcast (Kastafior-like), with unicast from the engine (one SSH stream per node, 8 at once)
// and with TakTuk (Debian's taktuk, flat over OpenSSH) to the same nodes. Every node really
// decompresses and extracts the image into its deploy partition (node disks on a tmpfs when run
// as root, so the host's disk is not what is measured), and every run is checked afterwards: each
// node must hold the whole extracted file. Needs `npm run build` and, for timed runs, the bench
// lock: `flock /tmp/kaploy-bench.lock node bench/broadcast-chain.mjs`.
//
//   node bench/broadcast-chain.mjs [N...] [--nodes 1,8,32,64] [--mib 64] [--nic-mib 1]
//        [--methods chain,unicast,taktuk] [--max-run-s 300] [--json FILE]
//
//   N... / --nodes   node counts, one virtual site each (default 1 8 32 64)
//   --mib            image size in MiB of incompressible data (default 64; gzip -1 adds ~0.02%)
//   --nic-mib        each node's modelled NIC rate, MiB/s in and out (default 1; fractions allowed)
//   --methods        any of chain, unicast, taktuk, tree, kascade (default chain,unicast,taktuk)
//   --max-run-s      a run whose modelled time exceeds this many seconds is not run; its modelled
//                    figure is printed marked "not run (modelled)" (default 300: unicast at 64
//                    nodes and 1 MiB/s would take 512 s)
//   --json           where to write the rows (default $TMPDIR/kaploy-broadcast-chain.json)
//
// Why 1 MiB/s by default: on one machine every byte a virtual node receives, relays or
// decompresses costs this machine's cores. The chain to 64 nodes used about 0.6-0.75 of a core
// at 1 MiB/s, 1.2 at 2 MiB/s and 1.6 at 4 MiB/s (the edge of the two cores; at 8 MiB/s, or at
// 4 MiB/s with other work on the machine, the host was the bound): 1 MiB/s keeps the NIC model
// the bound with room for the machine's other work (figures in docs/performance.md).
//
// For each run it prints: the wall time; the modelled time (what the NIC model allows, see
// `modelled()` below); the CPU time of every process involved: this process (the engine and the
// virtual nodes: SSH on both sides, the relays, the NIC model's token buckets), the sandboxes
// (the spawn helper and what it started: bubblewrap, sh, gzip, tar, TakTuk's remote perl), and
// TakTuk (the local taktuk and its OpenSSH clients); their sum as a share of the machine's cores
// over the wall time; the whole machine's busy share (other work included) and the 1-minute
// load average before and after; and which bound the run hit:
//   - "model":    wall <= modelled x 1.05 (the NIC model set the time);
//   - "host CPU": otherwise, if the processes above used >= 85% of the cores over the run;
//   - "host CPU (machine X% busy, ours Y%)": otherwise, if the whole machine was >= 85% busy
//                 (the rest being other work on the machine);
//   - "other":    none of these (latency the model does not have, a stall...).
import { execFile, execFileSync } from 'node:child_process';
import { setMaxListeners } from 'node:events';
import {
  mkdirSync,
  mkdtempSync,
  readdirSync,
  readFileSync,
  rmdirSync,
  rmSync,
  statSync,
  writeFileSync,
} from 'node:fs';
import { createServer } from 'node:http';
import os from 'node:os';
import path from 'node:path';

const { createStepTable } = await import('../dist/engine/steps/index.js');
const { MemoryHostKeyStore, SshPool } = await import('../dist/engine/ssh/index.js');
const { VirtualNode } = await import('../dist/testbed/node/index.js');
const { ensureTestImages } = await import('../dist/testbed/images/index.js');
const { silentLogger } = await import('../dist/common/logger.js');
// ssh2 sometimes writes an ed25519 key it cannot read back: this one retries until it can.
const { generateReadableKeyPair } = await import('../dist/testbed/manager/keys.js');

const args = process.argv.slice(2);
const opt = (name, dflt) => {
  const i = args.indexOf(`--${name}`);
  return i >= 0 ? args.splice(i, 2)[1] : dflt;
};
const MIB = Number(opt('mib', '64'));
const NIC = Number(opt('nic-mib', '1')) * 1024 * 1024;
const methods = opt('methods', 'chain,unicast,taktuk').split(',');
const MAX_RUN_S = Number(opt('max-run-s', '300'));
const jsonOut = opt('json', path.join(os.tmpdir(), 'kaploy-broadcast-chain.json'));
const nodesOpt = opt('nodes', undefined);
const sizes = nodesOpt ? nodesOpt.split(',').map(Number) : args.length ? args.map(Number) : [1, 8, 32, 64];
for (const m of methods)
  if (!['chain', 'unicast', 'taktuk', 'tree', 'kascade'].includes(m)) throw new Error(`unknown method ${m}`);
if (!(MIB > 0) || !(NIC > 0) || sizes.some((n) => !(n >= 1))) throw new Error('bad --mib, --nic-mib or N');
const UNICAST_CONCURRENCY = 8;
/** The NIC model's token buckets pass bytes in pieces of this size (src/testbed/node/token-bucket.ts). */
const PIECE = 16384;
const CORES = os.cpus().length;
const MODEL_SLACK = 0.05;
const CPU_BOUND = 0.85;

// CPU time, in seconds. This process's own from /proc (USER_HZ = 100 on Linux). The sandboxes'
// cannot be read from /proc alone: bubblewrap's monitor exits without waiting for the PID
// namespace's init, so what ran inside (gzip, tar) is never added to an ancestor's reaped-children
// time. So, where this process may create cgroups (root; cgroup v2 or v1 cpuacct), it moves itself
// into a cgroup of its own, which its spawn helper and every sandbox inherit, and runs taktuk in a
// second one; a cgroup counts its processes' CPU whoever reaps them. Elsewhere it falls back to
// /proc (this process's children and what they reaped: the sandboxes are then undercounted, and
// the output says so).
const TICK = 100;
function procCpu(pid) {
  const s = readFileSync(`/proc/${pid}/stat`, 'utf8');
  const f = s.slice(s.lastIndexOf(')') + 2).split(' ');
  // utime stime: the process itself; cutime cstime: the children it waited for.
  return { own: (Number(f[11]) + Number(f[12])) / TICK, reaped: (Number(f[13]) + Number(f[14])) / TICK };
}
function childrenOf(pid) {
  const out = [];
  try {
    for (const t of readdirSync(`/proc/${pid}/task`))
      out.push(
        ...readFileSync(`/proc/${pid}/task/${t}/children`, 'utf8').trim().split(/\s+/).filter(Boolean),
      );
  } catch {
    // gone meanwhile
  }
  return out.map(Number);
}
/** A live process and its descendants, with everything they reaped. */
function subtreeCpu(pid) {
  let total;
  try {
    const c = procCpu(pid);
    total = c.own + c.reaped;
  } catch {
    return 0;
  }
  for (const k of childrenOf(pid)) total += subtreeCpu(k);
  return total;
}

/** Two cgroups (`main`: this process and its descendants; `taktuk`), or undefined. */
function cpuCgroups() {
  const mounts = readFileSync('/proc/self/mounts', 'utf8')
    .split('\n')
    .map((l) => l.split(' '));
  const v2 = mounts.find((m) => m[2] === 'cgroup2')?.[1];
  const v1 = mounts.find((m) => m[2] === 'cgroup' && m[3]?.split(',').includes('cpuacct'))?.[1];
  const own = readFileSync('/proc/self/cgroup', 'utf8').split('\n');
  const tries = [];
  if (v2) {
    const rel = own.find((l) => l.startsWith('0::'))?.slice(3) ?? '/';
    tries.push({
      home: path.join(v2, rel),
      usage: (d) =>
        Number(/usage_usec (\d+)/.exec(readFileSync(path.join(d, 'cpu.stat'), 'utf8'))?.[1]) / 1e6,
    });
  }
  if (v1) {
    const rel = own.find((l) => /^\d+:[^:]*\bcpuacct\b/.test(l))?.split(':')[2] ?? '/';
    tries.push({
      home: path.join(v1, rel),
      usage: (d) => Number(readFileSync(path.join(d, 'cpuacct.usage'), 'utf8')) / 1e9,
    });
  }
  for (const t of tries) {
    const root = path.join(t.home, `kaploy-bench-${process.pid}`);
    try {
      mkdirSync(path.join(root, 'main'), { recursive: true });
      mkdirSync(path.join(root, 'taktuk'));
      if (!Number.isFinite(t.usage(path.join(root, 'main')))) throw new Error('no usage');
      writeFileSync(path.join(root, 'main', 'cgroup.procs'), String(process.pid));
      return {
        kind: v2 && t === tries[0] ? 'cgroup v2' : 'cgroup v1 cpuacct',
        main: () => t.usage(path.join(root, 'main')),
        taktuk: () => t.usage(path.join(root, 'taktuk')),
        taktukProcs: path.join(root, 'taktuk', 'cgroup.procs'),
        // Everything back where it came from (the spawn helper may outlive us briefly), then remove.
        cleanup() {
          for (const g of ['main', 'taktuk']) {
            const procs = readFileSync(path.join(root, g, 'cgroup.procs'), 'utf8')
              .split('\n')
              .filter(Boolean);
            for (const pid of procs) {
              try {
                writeFileSync(path.join(t.home, 'cgroup.procs'), pid);
              } catch {}
            }
          }
          for (const g of ['main', 'taktuk', '']) {
            try {
              rmdirSync(path.join(root, g));
            } catch {}
          }
        },
      };
    } catch {
      for (const g of ['main', 'taktuk', '']) {
        try {
          rmdirSync(path.join(root, g));
        } catch {}
      }
    }
  }
  return undefined;
}
const cg = cpuCgroups();

function hostJiffies() {
  // user nice system idle iowait irq softirq steal
  const h = readFileSync('/proc/stat', 'utf8').split('\n')[0].split(/\s+/).slice(1, 9).map(Number);
  return { total: h.reduce((a, b) => a + b, 0), idle: h[3] + h[4] };
}
const load1 = () => readFileSync('/proc/loadavg', 'utf8').split(' ')[0];
/** This process (engine + virtual nodes), the sandboxes, TakTuk, and the host. */
function snapshot() {
  const me = procCpu(process.pid);
  let sandboxes;
  let taktuk;
  if (cg) {
    sandboxes = cg.main() - me.own;
    taktuk = cg.taktuk();
  } else {
    // The spawn helper (and what it reaped) plus whatever this process reaped (taktuk).
    sandboxes = 0;
    for (const k of childrenOf(process.pid)) sandboxes += subtreeCpu(k);
    taktuk = me.reaped;
  }
  return { bench: me.own, sandboxes, taktuk, host: hostJiffies(), load: load1(), t: process.hrtime.bigint() };
}

/**
 * What the NIC model allows, in seconds. T = one transfer of the image through one node's NIC.
 * - chain, kascade (no failure): T, plus the pipeline fill: at most one 16 KiB piece held in each
 *   token bucket after the first (node i's inbound and outbound, i < N, and node N's inbound:
 *   2N - 2 buckets), (2N - 2) x 16 KiB / rate. An upper bound: in steady state a bucket has
 *   refilled by the time the next piece arrives.
 * - tree: an inner node sends its input twice through its outbound NIC: 2T, plus the fill over
 *   its depth.
 * - unicast: the engine streams to 8 nodes at once, each at its NIC's rate: ceil(N / 8) x T. The
 *   virtual site does not model the engine's own uplink; with one at the nodes' rate it would be
 *   N x T (printed in the summary, modelled only).
 * - taktuk (flat): every node at once at its NIC's rate: T (N x T with a modelled source uplink).
 */
function modelled(method, n) {
  const T = imgBytes / NIC;
  const hop = PIECE / NIC;
  if (method === 'chain' || method === 'kascade') return T + (2 * n - 2) * hop;
  if (method === 'tree') {
    const depth = Math.floor(Math.log2(n));
    return (n > 1 ? 2 : 1) * T + 2 * depth * hop;
  }
  if (method === 'unicast') return Math.ceil(n / UNICAST_CONCURRENCY) * T;
  return T; // taktuk
}
/** The same with the engine's uplink modelled at the nodes' rate (one stream at a time). */
function modelledWithSourceNic(method, n) {
  if (method === 'unicast' || method === 'taktuk') return n * (imgBytes / NIC);
  return modelled(method, n);
}

function verdict(wall, model, cpuShare, hostBusy) {
  if (wall <= model * (1 + MODEL_SLACK)) return 'model';
  if (cpuShare >= CPU_BOUND) return 'host CPU';
  if (hostBusy >= CPU_BOUND) return `host CPU (machine ${pct(hostBusy)} busy, ours ${pct(cpuShare)})`;
  return 'other';
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
  rmSync(tree, { recursive: true, force: true });
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
  const engine = generateReadableKeyPair();
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
      hostKey: Buffer.from(generateReadableKeyPair().private),
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
    steps: (broadcast) => createStepTable(spec, { pool, logger: silentLogger, tuning, broadcast }),
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
        // In its own cgroup from the start, so its OpenSSH clients are counted with it.
        const [file, argv] = cg
          ? ['sh', ['-c', 'echo $$ > "$0" && exec taktuk "$@"', cg.taktukProcs, ...args]]
          : ['taktuk', args];
        execFile(file, argv, { maxBuffer: 16 * 1024 * 1024 }, (err, stdout, stderr) => {
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
  // As the workflow runner does before a micro-step call: every node's command listens on it.
  setMaxListeners(0, signal);
  for (const m of micros) {
    const r = await ex[m](alive, ctx(macro, impl, m, signal));
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
const LABEL = { chain: 'chain', unicast: 'unicast', taktuk: 'taktuk', tree: 'tree', kascade: 'kascade' };
const rows = [];
const line = (s) => process.stdout.write(`${s}\n`);
const pct = (x) => `${(x * 100).toFixed(0)}%`;
const started = Date.now();
line(
  `image ${(imgBytes / 1048576).toFixed(2)} MiB tar.gz (${MIB} MiB incompressible, gzip -1), node NIC ${(NIC / 1048576).toFixed(2)} MiB/s in and out, one transfer T = ${(imgBytes / NIC).toFixed(1)} s, ${CORES} cores, node disks on ${onTmpfs ? 'tmpfs' : 'the host disk'}`,
);
line(
  `bound: "model" if wall <= model x ${1 + MODEL_SLACK}; else "host CPU" if the processes below used >= ${pct(CPU_BOUND)} of the ${CORES} cores; else "host CPU (machine X% busy, ours Y%)" if the whole machine was >= ${pct(CPU_BOUND)} busy; else "other". Runs whose model exceeds ${MAX_RUN_S} s are not run (--max-run-s).`,
);
line(
  `cpu accounting: ${cg ? `${cg.kind} (every process counted)` : '/proc only (no cgroup: the sandboxes are undercounted)'}`,
);
line(
  'cpu: bench = this process (engine + virtual nodes: SSH both sides, relays, NIC model); sandboxes = spawn helper + bwrap/sh/gzip/tar (+ TakTuk remote perl); taktuk = local taktuk + OpenSSH clients',
);
const header =
  'method    N   wall_s  model_s  wall/model  cpu_bench_s  cpu_sandbox_s  cpu_taktuk_s  cpu_total_s  cpu/cores  host_busy  load1     bound';
line(header);
process.on('SIGINT', () => process.exit(130));
process.on('SIGTERM', () => process.exit(143));
process.on('exit', () => {
  cg?.cleanup();
  if (onTmpfs) {
    try {
      execFileSync('umount', ['-l', work], { stdio: 'ignore' });
    } catch {}
  }
  rmSync(work, { recursive: true, force: true });
});
const f1 = (x, w) => x.toFixed(1).padStart(w);
function printRow(r) {
  if (!r.run) {
    line(
      `${LABEL[r.method].padEnd(8)} ${String(r.n).padStart(2)}  ${'-'.padStart(7)}  ${f1(r.model, 7)}  ${'-'.padStart(10)}  ${'-'.padStart(11)}  ${'-'.padStart(13)}  ${'-'.padStart(12)}  ${'-'.padStart(11)}  ${'-'.padStart(9)}  ${'-'.padStart(9)}  ${'-'.padEnd(8)}  not run (modelled)`,
    );
    return;
  }
  line(
    `${LABEL[r.method].padEnd(8)} ${String(r.n).padStart(2)}  ${f1(r.wall, 7)}  ${f1(r.model, 7)}  ${r.ratio.toFixed(2).padStart(10)}  ${f1(r.cpu.bench, 11)}  ${f1(r.cpu.sandboxes, 13)}  ${f1(r.cpu.taktuk, 12)}  ${f1(r.cpu.total, 11)}  ${pct(r.cpuShare).padStart(9)}  ${pct(r.hostBusy).padStart(9)}  ${`${r.load[0]}->${r.load[1]}`.padEnd(8)}  ${r.bound}`,
  );
}
for (const n of sizes) {
  const todo = methods.map((method) => ({ method, model: modelled(method, n) }));
  const toRun = todo.filter((t) => t.model <= MAX_RUN_S);
  for (const t of todo.filter((x) => x.model > MAX_RUN_S)) {
    const r = {
      method: t.method,
      n,
      run: false,
      model: t.model,
      modelSourceNic: modelledWithSourceNic(t.method, n),
    };
    rows.push(r);
    printRow(r);
  }
  if (toRun.length === 0) continue;
  const s = await site(n);
  try {
    await run(s.steps(), s.names, 'SetDeploymentEnv', 'SetDeploymentEnvUntrusted', PREP);
    for (const { method, model } of toRun) {
      await run(s.steps(), s.names, 'SetDeploymentEnv', 'SetDeploymentEnvUntrusted', CLEAN);
      const c0 = snapshot();
      if (method === 'taktuk') await s.taktuk();
      else await run(s.steps(method), s.names, 'BroadcastEnv', 'BroadcastEnvChain', ['send_environment']);
      const c1 = snapshot();
      const wall = Number(c1.t - c0.t) / 1e9;
      s.verify();
      const cpu = {
        bench: c1.bench - c0.bench,
        sandboxes: c1.sandboxes - c0.sandboxes,
        taktuk: c1.taktuk - c0.taktuk,
      };
      cpu.total = cpu.bench + cpu.sandboxes + cpu.taktuk;
      const cpuShare = cpu.total / (wall * CORES);
      const dt = c1.host.total - c0.host.total;
      const hostBusy = dt > 0 ? 1 - (c1.host.idle - c0.host.idle) / dt : 0;
      const r = {
        method,
        n,
        run: true,
        wall,
        model,
        modelSourceNic: modelledWithSourceNic(method, n),
        ratio: wall / model,
        cpu,
        cpuShare,
        hostBusy,
        load: [c0.load, c1.load],
        bound: verdict(wall, model, cpuShare, hostBusy),
      };
      rows.push(r);
      printRow(r);
    }
  } finally {
    await s.close();
  }
}

// Summary: each method beside the chain, and the chain at the largest N against N = 1.
line('');
line('summary (wall s; "not run" figures are the NIC model\'s, never measured):');
const cell = (m, n) => {
  const r = rows.find((x) => x.method === m && x.n === n);
  if (!r) return '';
  return r.run ? `${r.wall.toFixed(1)} (${r.bound})` : `not run (modelled ${r.model.toFixed(0)})`;
};
line(`N   ${methods.map((m) => m.padEnd(30)).join('')}`);
for (const n of sizes) line(`${String(n).padEnd(4)}${methods.map((m) => cell(m, n).padEnd(30)).join('')}`);
for (const m of ['unicast', 'taktuk'].filter((x) => methods.includes(x)))
  line(
    `${m}: the engine's uplink is not modelled; with one at the nodes' rate the model is N x T: ${sizes.map((n) => `N=${n} ${modelledWithSourceNic(m, n).toFixed(0)} s`).join(', ')} (modelled, not run)`,
  );
const chainRuns = rows.filter((r) => r.method === 'chain' && r.run);
const c1 = chainRuns.find((r) => r.n === 1);
const cMax = chainRuns.reduce((a, b) => (b.n > (a?.n ?? 0) ? b : a), undefined);
if (c1 && cMax && cMax.n > 1) {
  const x = cMax.wall / c1.wall;
  line(
    `chain N=${cMax.n} / N=1: ${cMax.wall.toFixed(1)} s / ${c1.wall.toFixed(1)} s = ${x.toFixed(2)}x (target <= 1.3x: ${x <= 1.3 ? 'met' : 'NOT met'})`,
  );
}
line(`total bench time ${((Date.now() - started) / 1000).toFixed(0)} s; rows in ${jsonOut}`);
writeFileSync(jsonOut, JSON.stringify({ imgBytes, nicBytesPerSec: NIC, cores: CORES, rows }, null, 2));
if (onTmpfs) execFileSync('umount', [work]);
rmSync(work, { recursive: true, force: true });
