import { randomBytes } from 'node:crypto';

/** One dashboard login: who, which secret it was opened with, until when, its CSRF token. */
export interface UiSession {
  id: string;
  user: string;
  /** sha256 of the secret used to log in: a rotated or revoked secret ends the session. */
  tokenHash: string;
  csrf: string;
  expires: number;
}

/** 32 random bytes, base64url: what a session id and a CSRF token look like. */
const SESSION_ID_RE = /^[A-Za-z0-9_-]{43}$/;

export interface SessionOptions {
  ttlMs: number;
  /** Sessions held at most; the oldest goes first (a login flood costs bounded memory). */
  max: number;
  now?: () => number;
}

/**
 * The dashboard's sessions, held by the engine (not in the cookie): the cookie carries only a
 * random id, so a forged one names nothing, and logging out or an engine restart ends them.
 */
export class UiSessions {
  readonly #byId = new Map<string, UiSession>();
  readonly #now: () => number;

  constructor(private readonly opts: SessionOptions) {
    // Read at each call (not captured), so the clock is the process's one.
    this.#now = opts.now ?? (() => Date.now());
  }

  create(user: string, tokenHash: string): UiSession {
    this.#prune();
    while (this.#byId.size >= this.opts.max) {
      const oldest = this.#byId.keys().next().value;
      if (oldest === undefined) break;
      this.#byId.delete(oldest);
    }
    const s: UiSession = {
      id: randomBytes(32).toString('base64url'),
      user,
      tokenHash,
      csrf: randomBytes(32).toString('base64url'),
      expires: this.#now() + this.opts.ttlMs,
    };
    this.#byId.set(s.id, s);
    return s;
  }

  /** The live session of this id, else undefined (unknown, malformed or expired). */
  get(id: string | undefined): UiSession | undefined {
    if (id === undefined || !SESSION_ID_RE.test(id)) return undefined;
    const s = this.#byId.get(id);
    if (!s) return undefined;
    if (s.expires <= this.#now()) {
      this.#byId.delete(id);
      return undefined;
    }
    return s;
  }

  delete(id: string): void {
    this.#byId.delete(id);
  }

  #prune(): void {
    const now = this.#now();
    for (const [id, s] of this.#byId) if (s.expires <= now) this.#byId.delete(id);
  }
}
