import { createHash, randomBytes, timingSafeEqual } from 'node:crypto';

/** A user's secret: 32 random bytes, base64url (what the client's readToken accepts). */
export function generateToken(): string {
  return randomBytes(32).toString('base64url');
}

/** The engine keeps only sha256(secret): a copy of the store does not let anyone act as a user. */
export function hashToken(token: string): string {
  return createHash('sha256').update(token, 'utf8').digest('hex');
}

export function sameHash(a: string, b: string): boolean {
  const x = Buffer.from(a, 'hex');
  const y = Buffer.from(b, 'hex');
  return x.length === y.length && x.length > 0 && timingSafeEqual(x, y);
}
