import type { Algorithms } from 'ssh2';

/**
 * Algorithm preferences. Measured against OpenSSH on loopback, a fresh connection costs ~100 ms of
 * CPU with OpenSSH's default key exchange and ~38 ms with curve25519-sha256, and ssh2's own default
 * kex order is several times slower than curve25519 (see docs/ssh.md), so the cheap exchanges come
 * first. AES-GCM runs on AES-NI through OpenSSL and needs no separate MAC. The rest of each list
 * stays so that older deployment environments still negotiate something.
 */
export const PREFERRED_ALGORITHMS: Algorithms = {
  kex: [
    'curve25519-sha256',
    'curve25519-sha256@libssh.org',
    'ecdh-sha2-nistp256',
    'ecdh-sha2-nistp384',
    'ecdh-sha2-nistp521',
    'diffie-hellman-group14-sha256',
    'diffie-hellman-group16-sha512',
    'diffie-hellman-group-exchange-sha256',
  ],
  cipher: [
    'aes128-gcm@openssh.com',
    'chacha20-poly1305@openssh.com',
    'aes256-gcm@openssh.com',
    'aes128-ctr',
    'aes192-ctr',
    'aes256-ctr',
  ],
  serverHostKey: [
    'ssh-ed25519',
    'ecdsa-sha2-nistp256',
    'ecdsa-sha2-nistp384',
    'ecdsa-sha2-nistp521',
    'rsa-sha2-512',
    'rsa-sha2-256',
  ],
  compress: ['none'],
};
