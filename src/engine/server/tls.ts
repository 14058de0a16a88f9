import { createSecureContext } from 'node:tls';
import { KaployError } from '../../common/errors.js';
import { readPemFile } from '../../common/pem-file.js';
import type { SiteConfig } from '../../common/site-config.js';

export interface ServerTls {
  cert: Buffer;
  key: Buffer;
}

/**
 * The engine's certificate and key, read once when it starts (a bad file fails the start, not the
 * first client's handshake): each a bounded PEM file, the key not world-readable, and the pair
 * checked to match. Absent from the configuration: plain HTTP.
 */
export function loadServerTls(listen: SiteConfig['listen']): ServerTls | undefined {
  if (!listen.tls) return undefined;
  const cert = readPemFile(listen.tls.certFile, 'the engine certificate (server.tls_cert)');
  const key = readPemFile(listen.tls.keyFile, 'the engine private key (server.tls_key)', { secret: true });
  try {
    createSecureContext({ cert, key });
  } catch (e) {
    throw new KaployError(
      'KAPLOY_CONFIG',
      `server.tls_cert ${listen.tls.certFile} and server.tls_key ${listen.tls.keyFile} are not a usable pair: ${(e as Error).message}`,
      { file: listen.tls.certFile, cause: e },
    );
  }
  return { cert, key };
}
