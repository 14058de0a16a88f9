import { setFlagsFromString } from 'node:v8';

/**
 * Keeps WebAssembly on V8's baseline compiler (docs/decisions/0041-client-memory.md). The only
 * WebAssembly kaploy's programs run is undici's HTTP parser (llhttp, compiled at a process's first
 * connection): V8 compiles it with Liftoff, then recompiles the hot functions with TurboFan on a
 * background thread. For a command that makes a few requests that second compile is pure cost:
 * ~33 MiB of peak RSS (kastat3 printing nothing peaked at 102 MiB, 69 MiB with Liftoff only) and CPU
 * it never earns back. The long-running `kaploy server` parses HTTP with undici only for the power
 * commands a site configures over HTTP, a handful of requests per operation, so it gets the same.
 * Must run before the first connection: runCli calls it first.
 */
export function skipWasmTierUp(): void {
  setFlagsFromString('--liftoff-only');
}
