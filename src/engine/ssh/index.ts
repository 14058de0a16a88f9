export { PREFERRED_ALGORITHMS } from './algorithms.js';
export { type HostKeyStore, type HostKeyVerdict, MemoryHostKeyStore } from './host-key-store.js';
export { SshPool } from './pool.js';
export { isSshError, SshError, type SshErrorKind } from './ssh-error.js';
export type { ExecOptions, ExecResult, SshPoolOptions, SshTarget } from './types.js';
