// Connection cost of the SSH transport: N in-process-style SSH servers on N loopback addresses
// (in a child process, so the figures below are the engine's side only), then SshPool opens a
// connection to each node with bounded concurrency and runs one command; then a second command
// on every already-open connection.
//
//   npm run build && node bench/ssh-connect.mjs --nodes 100,500 [--concurrency 64] [--kex K1,K2]
//     [--net 127.202] [--port 2222]   (servers listen on NET.x.y:PORT)
//
// --kex runs the whole set once per key exchange algorithm (default: the pool's preference list).
import { fork } from 'node:child_process';
import { mkdtempSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import pMap from 'p-map';
import ssh2 from 'ssh2';
import { MemoryHostKeyStore, PREFERRED_ALGORITHMS, SshPool } from '../dist/engine/ssh/index.js';
import { benchAddress } from './lib/ssh-bench-servers.mjs';

const { utils } = ssh2;

function arg(name, dflt) {
  const i = process.argv.indexOf(`--${name}`);
  return i >= 0 ? process.argv[i + 1] : dflt;
}
const nodeCounts = arg('nodes', '100,500').split(',').map(Number);
const concurrency = Number(arg('concurrency', '64'));
const kexList = arg('kex', '') ? arg('kex', '').split(',') : [undefined];
const port = Number(arg('port', '2222'));
const net = arg('net', '127.202');
if (!/^127\.\d{1,3}$/.test(net)) {
  process.stderr.write('--net must be two octets inside 127/8, e.g. 127.202\n');
  process.exit(2);
}
if (nodeCounts.some((n) => !Number.isInteger(n) || n < 1 || n > 60_000) || !(concurrency > 0)) {
  process.stderr.write('usage: node bench/ssh-connect.mjs --nodes 100,500 [--concurrency 64] [--kex a,b]\n');
  process.exit(2);
}

const dir = mkdtempSync(join(tmpdir(), 'kaploy-bench-ssh-'));
// ssh2 1.17 emits a malformed ed25519 key about once in 200: draw until both halves parse.
function newEd25519() {
  for (;;) {
    const kp = utils.generateKeyPairSync('ed25519');
    if (!(utils.parseKey(kp.public) instanceof Error) && !(utils.parseKey(kp.private) instanceof Error))
      return kp;
  }
}
const hostKey = newEd25519();
const engineKey = newEd25519();
writeFileSync(join(dir, 'host'), hostKey.private, { mode: 0o600 });

function cpuMs(u) {
  return (u.user + u.system) / 1000;
}

async function startChild(count, algorithms) {
  const child = fork(new URL('./lib/ssh-bench-servers.mjs', import.meta.url), [], { stdio: 'inherit' });
  const reply = () => new Promise((r) => child.once('message', r));
  const ready = reply();
  child.send({
    cmd: 'start',
    count,
    port,
    hostKeyFile: join(dir, 'host'),
    authorizedKey: engineKey.public,
    algorithms,
  });
  const r = await ready;
  return {
    cpu: async () => {
      const p = reply();
      child.send({ cmd: 'cpu' });
      return p;
    },
    startCpu: r.cpu,
    stop: async () => {
      const exited = new Promise((res) => child.once('exit', res));
      child.send({ cmd: 'stop' });
      await exited;
    },
  };
}

const fmt = (x, d = 1) => x.toFixed(d);
const rows = [];
for (const kex of kexList) {
  const algorithms = kex ? { ...PREFERRED_ALGORITHMS, kex: [kex] } : PREFERRED_ALGORITHMS;
  for (const n of nodeCounts) {
    const servers = await startChild(n, kex ? { kex: [kex] } : undefined);
    const pool = new SshPool({
      privateKey: engineKey.private,
      hostKeys: new MemoryHostKeyStore(),
      algorithms,
    });
    const targets = Array.from({ length: n }, (_, i) => ({
      node: `node-${i + 1}`,
      host: benchAddress(i, net),
      port,
      username: 'root',
    }));
    const runAll = async (opts) => {
      const cpu0 = process.cpuUsage();
      const srv0 = (await servers.cpu()).cpu;
      const t0 = process.hrtime.bigint();
      await pMap(
        targets,
        async (t) => {
          const r = await pool.exec(t, 'true', opts);
          if (r.exitCode !== 0 || r.stdout !== 'ok\n') throw new Error(`${t.node}: unexpected result`);
        },
        { concurrency },
      );
      const wallMs = Number(process.hrtime.bigint() - t0) / 1e6;
      const clientCpu = cpuMs(process.cpuUsage(cpu0));
      const srv1 = await servers.cpu();
      const serverCpu = cpuMs(srv1.cpu) - cpuMs(srv0);
      return { wallMs, clientCpu, serverCpu };
    };
    const first = await runAll({ trustOnFirstUse: true });
    const again = await runAll({});
    const rssMiB = process.resourceUsage().maxRSS / 1024;
    await pool.closeAll();
    await servers.stop();
    rows.push({ kex: kex ?? 'preferred', n, first, again, rssMiB });
    process.stdout.write(
      `kex=${kex ?? 'preferred (curve25519-sha256 first)'} nodes=${n} concurrency=${concurrency}\n` +
        `  connect+exec: wall ${fmt(first.wallMs, 0)} ms, ${fmt(first.wallMs / n, 2)} ms/node wall, ` +
        `engine CPU ${fmt(first.clientCpu, 0)} ms (${fmt(first.clientCpu / n, 2)} ms/node), ` +
        `server CPU ${fmt(first.serverCpu / n, 2)} ms/node\n` +
        `  exec on open connection: wall ${fmt(again.wallMs, 0)} ms, engine CPU ${fmt(again.clientCpu / n, 2)} ms/command, ` +
        `server CPU ${fmt(again.serverCpu / n, 2)} ms/command\n` +
        `  engine peak RSS ${fmt(rssMiB, 0)} MiB\n`,
    );
  }
}
rmSync(dir, { recursive: true, force: true });
