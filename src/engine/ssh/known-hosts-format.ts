import { createHmac } from 'node:crypto';

/**
 * OpenSSH known_hosts lines (sshd(8) "SSH_KNOWN_HOSTS FILE FORMAT"): `patterns keytype base64
 * [comment]`, patterns comma-separated, each a name, `[name]:port` (non-22 ports), a hashed
 * `|1|salt|hmac-sha1` or a negated `!pattern`. Wildcards and `@cert-authority`/`@revoked` lines are
 * kept verbatim but never match: the engine pins exact keys per node.
 */
export interface KnownHostsEntry {
  patterns: string[];
  keyType: string;
  key: Buffer;
}

/** The name OpenSSH looks up for a host on a port: `name` on 22, `[name]:port` otherwise. */
export function hostEntryName(name: string, port: number): string {
  return port === 22 ? name : `[${name}]:${port}`;
}

export function parseKnownHostsLine(line: string): KnownHostsEntry | undefined {
  const trimmed = line.trim();
  if (trimmed === '' || trimmed.startsWith('#') || trimmed.startsWith('@')) return undefined;
  const fields = trimmed.split(/\s+/);
  const [patterns, keyType, b64] = fields;
  if (patterns === undefined || keyType === undefined || b64 === undefined) return undefined;
  if (!/^[A-Za-z0-9+/]+={0,2}$/.test(b64)) return undefined;
  const key = Buffer.from(b64, 'base64');
  // The blob starts with its own key type; a line whose two disagree is corrupt, not a pin.
  if (keyTypeOf(key) !== keyType) return undefined;
  return { patterns: patterns.split(','), keyType, key };
}

export function formatKnownHostsLine(name: string, key: Buffer): string {
  const keyType = keyTypeOf(key);
  if (keyType === undefined) throw new Error('not an SSH public key blob');
  return `${name} ${keyType} ${key.toString('base64')}`;
}

/** The key type string that starts an SSH public key blob (RFC 4253 §6.6), if well formed. */
export function keyTypeOf(blob: Buffer): string | undefined {
  if (blob.length < 4) return undefined;
  const len = blob.readUInt32BE(0);
  if (len === 0 || len > 64 || 4 + len > blob.length) return undefined;
  const t = blob.toString('latin1', 4, 4 + len);
  return /^[\x21-\x7e]+$/.test(t) ? t : undefined;
}

function patternMatches(pattern: string, name: string): boolean {
  if (pattern.startsWith('|1|')) {
    const [, , salt, hash] = pattern.split('|');
    if (salt === undefined || hash === undefined) return false;
    const h = createHmac('sha1', Buffer.from(salt, 'base64')).update(name).digest('base64');
    return h === hash;
  }
  return pattern === name;
}

/**
 * Whether an entry applies to one of `names` (the forms a node may be written under). A matching
 * negated pattern excludes the line, as in OpenSSH.
 */
export function entryMatches(entry: KnownHostsEntry, names: readonly string[]): boolean {
  let matched = false;
  for (const p of entry.patterns) {
    const negated = p.startsWith('!');
    const pat = negated ? p.slice(1) : p;
    if (!names.some((n) => patternMatches(pat, n))) continue;
    if (negated) return false;
    matched = true;
  }
  return matched;
}
