/**
 * Typed errors with stable codes. `code` is a stable string for programs; `appCode` is the
 * Kadeploy application error number carried in API error bodies (reference §6: 6 rights,
 * 7 environment, 30 destructive, ...). Only src/cli turns these into exit codes and messages.
 */
export const APP_CODES = {
  KAPLOY_INVALID_WORKFLOW_ID: 1,
  KAPLOY_NODE_LIST: 2,
  KAPLOY_CLIENT: 3,
  KAPLOY_OPTION: 4,
  KAPLOY_FILE: 5,
  KAPLOY_RIGHTS: 6,
  KAPLOY_ENVIRONMENT: 7,
  KAPLOY_CUSTOM_OP: 8,
  KAPLOY_VLAN: 9,
  KAPLOY_EXISTS: 10,
  KAPLOY_CONFLICT: 11,
  KAPLOY_MISSING_OPTION: 12,
  KAPLOY_CONFLICTING_OPTIONS: 13,
  KAPLOY_NOTHING_MODIFIED: 14,
  KAPLOY_EXECUTE: 15,
  KAPLOY_DATABASE: 20,
  KAPLOY_CACHE: 21,
  KAPLOY_CACHE_FULL: 22,
  KAPLOY_DESTRUCTIVE: 30,
  // Not in Kadeploy: our own stable codes (numbers >= 100).
  KAPLOY_AUTH: 101,
  KAPLOY_CONFIG: 102,
  KAPLOY_NOT_FOUND: 103,
  KAPLOY_CHECKSUM: 104,
  /** A site's OAR refused a request, or answered what its commands never print (oargrid). */
  KAPLOY_OAR: 105,
  /**
   * A per-node outcome, never an exception: another user's deployment took the node with --force
   * (`taken by <user>'s deployment <wid> (--force)`); the node ends cancelled in the operation it left.
   */
  KAPLOY_PREEMPTED: 106,
  KAPLOY_INTERNAL: 199,
} as const;

export type KaployErrorCode = keyof typeof APP_CODES;

export interface KaployErrorFields {
  node?: string;
  step?: string;
  environment?: string;
  file?: string;
  key?: string;
  line?: number;
  cause?: unknown;
}

export class KaployError extends Error {
  readonly code: KaployErrorCode;
  readonly fields: KaployErrorFields;

  constructor(code: KaployErrorCode, message: string, fields: KaployErrorFields = {}) {
    super(message, fields.cause === undefined ? undefined : { cause: fields.cause });
    this.name = 'KaployError';
    this.code = code;
    this.fields = fields;
  }

  get appCode(): number {
    return APP_CODES[this.code];
  }

  toJSON(): { code: KaployErrorCode; appCode: number; message: string; fields: KaployErrorFields } {
    const { cause: _cause, ...fields } = this.fields;
    return { code: this.code, appCode: this.appCode, message: this.message, fields };
  }
}

export function isKaployError(e: unknown, code?: KaployErrorCode): e is KaployError {
  return e instanceof KaployError && (code === undefined || e.code === code);
}

/** Wraps anything thrown into a message, for the one error boundary per program. */
export function errorMessage(e: unknown): string {
  if (e instanceof Error) return e.message;
  return String(e);
}
