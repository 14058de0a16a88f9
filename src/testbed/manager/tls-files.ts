import { chmod, mkdir, rm, writeFile } from 'node:fs/promises';
import path from 'node:path';
import { KaployError } from '../../common/errors.js';
import { describeFailure, runCommand } from '../../common/run-command.js';
import type { TestbedLayout } from './layout.js';

/** Where `up --tls` keeps the site's CA and the engine's certificate (DIR/tls, mode 700). */
export interface TlsFiles {
  /** The CA certificate clients verify the engine against (client.yaml's `ca`). */
  caCert: string;
  caKey: string;
  /** The engine's certificate (for 127.0.0.1 and localhost) and key: server.tls_cert / tls_key. */
  cert: string;
  key: string;
}

export const tlsFiles = (l: TestbedLayout): TlsFiles => ({
  caCert: path.join(l.tlsDir, 'ca.pem'),
  caKey: path.join(l.tlsDir, 'ca.key'),
  cert: path.join(l.tlsDir, 'engine.pem'),
  key: path.join(l.tlsDir, 'engine.key'),
});

const DAYS = '825';
const EC = ['-newkey', 'ec', '-pkeyopt', 'ec_paramgen_curve:prime256v1', '-nodes'];

async function openssl(args: readonly string[], signal?: AbortSignal): Promise<void> {
  const r = await runCommand(['openssl', ...args], {
    timeoutMs: 60_000,
    ...(signal ? { signal } : {}),
  }).catch((e: Error) => {
    throw new KaployError('KAPLOY_FILE', `cannot run openssl (scripts/setup.sh installs it): ${e.message}`);
  });
  if (r.code !== 0)
    throw new KaployError('KAPLOY_INTERNAL', `openssl ${args[0]} failed: ${describeFailure(r)}`);
}

/**
 * A fresh CA and an engine certificate signed by it, made with the openssl program (argument
 * vectors, no shell) at each `up --tls`: a site-internal CA as Grid'5000-like sites run, so the
 * clients verify the engine for real (decision 0029) instead of turning verification off. The
 * directory is created owner-only before any key is written, and the keys are 0600.
 */
export async function writeTlsFiles(l: TestbedLayout, signal?: AbortSignal): Promise<TlsFiles> {
  const f = tlsFiles(l);
  await rm(l.tlsDir, { recursive: true, force: true });
  await mkdir(l.tlsDir, { mode: 0o700 });
  await chmod(l.tlsDir, 0o700);
  await openssl(
    [
      'req',
      '-x509',
      ...EC,
      '-keyout',
      f.caKey,
      '-out',
      f.caCert,
      '-days',
      DAYS,
      '-subj',
      '/CN=kaploy virtual site CA',
      '-addext',
      'basicConstraints=critical,CA:TRUE',
      '-addext',
      'keyUsage=critical,keyCertSign,cRLSign',
    ],
    signal,
  );
  const csr = path.join(l.tlsDir, 'engine.csr');
  await openssl(['req', ...EC, '-keyout', f.key, '-out', csr, '-subj', '/CN=127.0.0.1'], signal);
  const ext = path.join(l.tlsDir, 'engine.ext');
  await writeFile(
    ext,
    [
      'basicConstraints=critical,CA:FALSE',
      'keyUsage=critical,digitalSignature',
      'extendedKeyUsage=serverAuth',
      'subjectAltName=IP:127.0.0.1,DNS:localhost',
      '',
    ].join('\n'),
  );
  await openssl(
    [
      'x509',
      '-req',
      '-in',
      csr,
      '-CA',
      f.caCert,
      '-CAkey',
      f.caKey,
      '-set_serial',
      `0x${Date.now().toString(16)}`,
      '-days',
      DAYS,
      '-extfile',
      ext,
      '-out',
      f.cert,
    ],
    signal,
  );
  await rm(csr, { force: true });
  await rm(ext, { force: true });
  for (const k of [f.caKey, f.key]) await chmod(k, 0o600);
  return f;
}
