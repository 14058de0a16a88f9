// N minimal SSH servers (ssh2 Server), each on its own loopback address (Linux routes all of
// 127/8 to lo), accepting one public key and answering every exec with "ok" and exit 0, so a
// benchmark measures the transport (handshake, auth, channel) and not a command.
// Run as a child process (`fork`) to keep the servers' CPU out of the client's figures.
import { readFileSync } from 'node:fs';
import ssh2 from 'ssh2';

const { Server, utils } = ssh2;

/** Node i's address under `net` (two octets, e.g. '127.202': away from the testbed's 127.<site>). */
export function benchAddress(i, net = '127.202') {
  return `${net}.${Math.floor(i / 250)}.${(i % 250) + 1}`;
}

export async function startBenchServers({ count, port, net, hostKey, authorizedKey, algorithms }) {
  const pub = utils.parseKey(authorizedKey);
  const blob = pub.getPublicSSH();
  const servers = [];
  const start = (i) =>
    new Promise((resolve, reject) => {
      const server = new Server({ hostKeys: [hostKey], algorithms }, (client) => {
        client.on('error', () => {});
        client.on('authentication', (ctx) => {
          if (ctx.method !== 'publickey' || !ctx.key.data.equals(blob)) return ctx.reject(['publickey']);
          if (ctx.signature && pub.verify(ctx.blob, ctx.signature, ctx.hashAlgo) !== true)
            return ctx.reject();
          ctx.accept();
        });
        client.on('session', (accept) => {
          accept().on('exec', (acceptExec) => {
            const ch = acceptExec();
            ch.on('error', () => {});
            ch.write('ok\n');
            ch.exit(0);
            ch.end();
          });
        });
      });
      server.on('error', reject);
      server.listen(port, benchAddress(i, net), () => resolve(server));
    });
  for (let i = 0; i < count; i += 200) {
    const batch = [];
    for (let j = i; j < Math.min(count, i + 200); j++) batch.push(start(j));
    servers.push(...(await Promise.all(batch)));
  }
  return {
    close: () => Promise.all(servers.map((s) => new Promise((r) => s.close(r)))),
  };
}

// Child-process mode: `fork(thisFile)` then send {count, port, hostKeyFile, authorizedKey, algorithms}.
if (process.argv[1] && import.meta.url === new URL(`file://${process.argv[1]}`).href && process.send) {
  let running;
  process.on('message', async (m) => {
    if (m.cmd === 'start') {
      const hostKey = readFileSync(m.hostKeyFile);
      running = await startBenchServers({ ...m, hostKey });
      process.send({ ready: true, cpu: process.cpuUsage() });
    } else if (m.cmd === 'cpu') {
      process.send({ cpu: process.cpuUsage(), maxRssKiB: process.resourceUsage().maxRSS });
    } else if (m.cmd === 'stop') {
      await running?.close();
      process.exit(0);
    }
  });
}
