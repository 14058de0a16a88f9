// Idle-connection floods against an engine, shared by bench/idle-connections.mjs and the
// reliability scenario (scripts/reliability/scenarios/idle-connections.mjs).
import net from 'node:net';

/** One GET /version from `from`; resolves with the time to the first byte of the answer, or 'refused'. */
function request(port, from) {
  return new Promise((resolve) => {
    const t0 = performance.now();
    const s = net.connect({ host: '127.0.0.1', port, localAddress: from });
    let answered = false;
    s.once('connect', () => s.write('GET /version HTTP/1.1\r\nHost: x\r\nConnection: close\r\n\r\n'));
    s.once('data', () => {
      answered = true;
      resolve(performance.now() - t0);
      s.destroy();
    });
    s.once('error', () => undefined);
    s.once('close', () => {
      if (!answered) resolve('refused');
    });
    s.setTimeout(15_000, () => s.destroy());
  });
}

/** Ten requests one after the other from `from`: how many were answered, and their median time. */
export async function probe(port, from) {
  const times = [];
  for (let i = 0; i < 10; i++) times.push(await request(port, from));
  const ok = times.filter((t) => t !== 'refused').sort((a, b) => a - b);
  return {
    answered: ok.length,
    text: `${ok.length}/10${ok.length ? ` (${ok[Math.floor(ok.length / 2)].toFixed(1)} ms)` : ''}`,
  };
}

/**
 * Opens `n` TCP connections that send nothing, spread over `addresses`, 200 per turn of the event
 * loop (10,000 connect calls from one address in one turn completed none on loopback). `summary()` says how many
 * the kernel completed, how many the engine closed at once (< 1 s) or later, how many are open;
 * `close()` destroys them all.
 */
export async function openIdle(port, addresses, n) {
  const socks = [];
  for (let i = 0; i < n; i++) {
    if (i % 200 === 0) await new Promise((r) => setImmediate(r));
    const s = net.connect({ host: '127.0.0.1', port, localAddress: addresses[i % addresses.length] });
    const rec = { s, connected: 0, closed: 0 };
    s.once('connect', () => {
      rec.connected = performance.now();
    });
    s.once('error', () => undefined);
    s.once('close', () => {
      rec.closed = performance.now();
    });
    socks.push(rec);
  }
  return {
    summary() {
      const connected = socks.filter((r) => r.connected > 0);
      return {
        connected: connected.length,
        atOnce: connected.filter((r) => r.closed > 0 && r.closed - r.connected < 1000).length,
        byTimeout: connected.filter((r) => r.closed > 0 && r.closed - r.connected >= 1000).length,
        open: connected.filter((r) => r.closed === 0).length,
      };
    },
    close() {
      for (const r of socks) r.s.destroy();
    },
  };
}

/** `probe` 2 s into the flood and again at 15 s (after the engine's header_timeout). */
export async function flood(port, addresses, n, probeFrom = '127.0.0.2') {
  const f = await openIdle(port, addresses, n);
  await new Promise((r) => setTimeout(r, 2000));
  const during = await probe(port, probeFrom);
  await new Promise((r) => setTimeout(r, 13_000));
  const after = await probe(port, probeFrom);
  const s = f.summary();
  f.close();
  return { ...s, during, after };
}
