import { execFile } from 'node:child_process';
import { request } from 'undici';
import { fillPlaceholders } from '../../common/site-config.js';
import type { CommandSpec } from '../../common/site-config-types.js';
import { readToken } from '../../common/token-file.js';

/**
 * Runs one site hardware command (reboot / power / status) for one node: an argument vector run
 * without a shell (placeholders filled per word, so a node name can never become shell syntax), or
 * an HTTP call to a BMC-like API (placeholders URL-encoded). The outcome is a value.
 */
export type HardwareOutcome = { ok: true; output: string } | { ok: false; reason: string };

export interface HardwareCommandOptions {
  timeoutMs: number;
  signal: AbortSignal;
}

const MAX_OUTPUT = 64 * 1024;

function short(text: string, max = 200): string {
  const t = text.trim().replace(/\s*\n\s*/g, ' | ');
  return t.length > max ? `...${t.slice(t.length - max)}` : t;
}

export function renderArgv(argv: readonly string[], vars: Record<string, string>): string[] {
  return argv.map((w) => fillPlaceholders(w, vars));
}

export function renderUrl(url: string, vars: Record<string, string>): string {
  const encoded = Object.fromEntries(Object.entries(vars).map(([k, v]) => [k, encodeURIComponent(v)]));
  return fillPlaceholders(url, encoded);
}

function runArgv(argv: string[], o: HardwareCommandOptions): Promise<HardwareOutcome> {
  const [file, ...args] = argv;
  if (!file) return Promise.resolve({ ok: false, reason: 'empty command' });
  return new Promise((resolve) => {
    execFile(
      file,
      args,
      {
        signal: o.signal,
        timeout: o.timeoutMs,
        maxBuffer: MAX_OUTPUT,
        killSignal: 'SIGKILL',
        encoding: 'utf8',
      },
      (err, stdout, stderr) => {
        if (!err) {
          resolve({ ok: true, output: stdout });
          return;
        }
        const e = err as NodeJS.ErrnoException & { code?: unknown; killed?: boolean; signal?: string | null };
        if (o.signal.aborted) resolve({ ok: false, reason: 'aborted' });
        else if (e.killed && e.signal === 'SIGKILL')
          resolve({ ok: false, reason: `${file} timed out after ${o.timeoutMs} ms` });
        else if (typeof e.code === 'number') {
          const out = short(stderr) || short(stdout);
          resolve({ ok: false, reason: `${file} exited with code ${e.code}${out ? `: ${out}` : ''}` });
        } else resolve({ ok: false, reason: `${file}: ${e.message}` });
      },
    );
  });
}

async function runHttp(
  method: 'GET' | 'POST' | 'PUT',
  url: string,
  tokenFile: string | undefined,
  o: HardwareCommandOptions,
): Promise<HardwareOutcome> {
  let headers: Record<string, string> = {};
  if (tokenFile !== undefined) {
    // Read at each call: a BMC whose token is rotated needs no engine restart.
    try {
      headers = {
        authorization: `Bearer ${readToken(tokenFile, 'check http.token_file in the site configuration')}`,
      };
    } catch (e) {
      return { ok: false, reason: `${method} ${url}: the BMC token: ${(e as Error).message}` };
    }
  }
  const signal = AbortSignal.any([o.signal, AbortSignal.timeout(o.timeoutMs)]);
  try {
    const res = await request(url, { method, signal, headers });
    const body = await res.body.text();
    if (res.statusCode >= 200 && res.statusCode < 300) return { ok: true, output: body };
    return {
      ok: false,
      reason: `${method} ${url} answered HTTP ${res.statusCode}${body.trim() ? `: ${short(body)}` : ''}`,
    };
  } catch (e) {
    if (o.signal.aborted) return { ok: false, reason: 'aborted' };
    if (signal.aborted) return { ok: false, reason: `${method} ${url} timed out after ${o.timeoutMs} ms` };
    const err = e as Error & { code?: string };
    return { ok: false, reason: `${method} ${url} failed: ${err.code ?? err.message}` };
  }
}

export function runHardwareCommand(
  spec: CommandSpec,
  vars: Record<string, string>,
  o: HardwareCommandOptions,
): Promise<HardwareOutcome> {
  if (o.signal.aborted) return Promise.resolve({ ok: false, reason: 'aborted' });
  if (spec.kind === 'argv') return runArgv(renderArgv(spec.argv, vars), o);
  return runHttp(spec.method, renderUrl(spec.url, vars), spec.tokenFile, o);
}
