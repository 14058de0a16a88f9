import { execFileSync } from 'node:child_process';
import { chmod, mkdtemp, readFile, rm, writeFile } from 'node:fs/promises';
import { createServer, type Server } from 'node:http';
import type { AddressInfo } from 'node:net';
import os from 'node:os';
import path from 'node:path';
import { afterEach, beforeEach, describe, expect, it } from 'vitest';
import type { ClusterConfig } from '../../../src/common/site-config-types.js';
import { renderUrl, runHardwareCommand } from '../../../src/engine/power/hardware-command.js';
import { nodeVars } from '../../../src/engine/power/placeholders.js';
import { rebootNode } from '../../../src/engine/power/reboot-node.js';
import { testSite } from './helpers/site.js';

/** A BMC-like API on port 0 recording each call; `status(level)` decides the answer. */
async function startBmc(status: (level: string) => number) {
  const calls: string[] = [];
  const auth: (string | undefined)[] = [];
  const server: Server = createServer((req, res) => {
    calls.push(`${req.method} ${req.url}`);
    auth.push(req.headers.authorization);
    const level = new URL(req.url ?? '/', 'http://x').searchParams.get('level') ?? '';
    const code = status(level);
    res.writeHead(code, { 'content-type': 'text/plain' });
    res.end(code === 200 ? 'ok' : `cannot ${level} reboot`);
  });
  await new Promise<void>((r) => server.listen(0, '127.0.0.1', r));
  const port = (server.address() as AddressInfo).port;
  return {
    calls,
    auth,
    url: `http://127.0.0.1:${port}`,
    close: () => new Promise<void>((r) => server.close(() => r())),
  };
}

const mkfifo = async (p: string) => {
  execFileSync('mkfifo', ['-m', '600', p]);
};

const node = { name: 'node-1.testsite', address: '127.0.0.5', cluster: 'vc' };
const vars = nodeVars('testsite', node);

describe('hardware commands', () => {
  let dir: string;
  beforeEach(async () => {
    dir = await mkdtemp(path.join(os.tmpdir(), 'kaploy-power-'));
  });
  afterEach(async () => {
    await rm(dir, { recursive: true, force: true });
  });

  it('runs an argv command without a shell, placeholders filled per word', async ({ signal }) => {
    const out = path.join(dir, 'out');
    const r = await runHardwareCommand(
      {
        kind: 'argv',
        argv: [
          'sh',
          '-c',
          'printf "%s|" "$@" > "$0"',
          out,
          '{node}',
          '{short}',
          '{address}',
          '{cluster}',
          '{site}',
          '$(id)',
        ],
      },
      vars,
      { timeoutMs: 5000, signal },
    );
    expect(r).toEqual({ ok: true, output: '' });
    expect(await readFile(out, 'utf8')).toBe('node-1.testsite|node-1|127.0.0.5|vc|testsite|$(id)|');
  });

  it('reports a failing argv command with its exit code and stderr', async ({ signal }) => {
    const r = await runHardwareCommand(
      { kind: 'argv', argv: ['sh', '-c', 'echo no power >&2; exit 3'] },
      vars,
      { timeoutMs: 5000, signal },
    );
    expect(r).toEqual({ ok: false, reason: 'sh exited with code 3: no power' });
  });

  it('bounds an argv command by its timeout', async ({ signal }) => {
    const r = await runHardwareCommand({ kind: 'argv', argv: ['sleep', '10'] }, vars, {
      timeoutMs: 100,
      signal,
    });
    expect(r).toEqual({ ok: false, reason: 'sleep timed out after 100 ms' });
  });

  it('URL-encodes placeholders in an http command', () => {
    expect(renderUrl('http://h/nodes/{node}/reboot?x={site}', { node: 'a b/c', site: 's&t' })).toBe(
      'http://h/nodes/a%20b%2Fc/reboot?x=s%26t',
    );
  });

  it('calls an http command and reports a non-2xx answer', async ({ signal }) => {
    const bmc = await startBmc((l) => (l === 'soft' ? 200 : 500));
    try {
      const ok = await runHardwareCommand(
        { kind: 'http', method: 'POST', url: `${bmc.url}/nodes/{node}/reboot?level=soft` },
        vars,
        { timeoutMs: 5000, signal },
      );
      expect(ok).toEqual({ ok: true, output: 'ok' });
      const ko = await runHardwareCommand(
        { kind: 'http', method: 'POST', url: `${bmc.url}/nodes/{node}/reboot?level=hard` },
        vars,
        { timeoutMs: 5000, signal },
      );
      expect(ko).toEqual({
        ok: false,
        reason: `POST ${bmc.url}/nodes/node-1.testsite/reboot?level=hard answered HTTP 500: cannot hard reboot`,
      });
      expect(bmc.calls).toEqual([
        'POST /nodes/node-1.testsite/reboot?level=soft',
        'POST /nodes/node-1.testsite/reboot?level=hard',
      ]);
    } finally {
      await bmc.close();
    }
  });

  it('sends the bearer token of token_file, and refuses a token file others can read or that is no file', async ({
    signal,
  }) => {
    const bmc = await startBmc(() => 200);
    try {
      const tokenFile = path.join(dir, 'bmc-token');
      await writeFile(tokenFile, 'sEcReT_token-0123456789\n', { mode: 0o600 });
      const spec = {
        kind: 'http' as const,
        method: 'POST' as const,
        url: `${bmc.url}/nodes/{node}/reboot?level=soft`,
        tokenFile,
      };
      expect(await runHardwareCommand(spec, vars, { timeoutMs: 5000, signal })).toEqual({
        ok: true,
        output: 'ok',
      });
      expect(bmc.auth).toEqual(['Bearer sEcReT_token-0123456789']);
      await chmod(tokenFile, 0o644);
      const open = await runHardwareCommand(spec, vars, { timeoutMs: 5000, signal });
      expect(open).toMatchObject({ ok: false });
      expect((open as { reason: string }).reason).toContain('is readable by others');
      const missing = await runHardwareCommand({ ...spec, tokenFile: path.join(dir, 'none') }, vars, {
        timeoutMs: 5000,
        signal,
      });
      expect((missing as { reason: string }).reason).toContain(
        'check http.token_file in the site configuration',
      );
      await mkfifo(path.join(dir, 'fifo'));
      const fifo = await runHardwareCommand({ ...spec, tokenFile: path.join(dir, 'fifo') }, vars, {
        timeoutMs: 5000,
        signal,
      });
      expect((fifo as { reason: string }).reason).toContain('is not a regular file');
      // None of the refused calls reached the BMC.
      expect(bmc.calls).toHaveLength(1);
    } finally {
      await bmc.close();
    }
  });
});

describe('reboot escalation', () => {
  const clusterWith = (url: string, levels: ('soft' | 'hard' | 'very_hard')[]): ClusterConfig => {
    const c = testSite({ dir: '/tmp', nodes: [node] }).clusters[0] as ClusterConfig;
    for (const l of levels)
      c.commands.reboot[l] = { kind: 'http', method: 'POST', url: `${url}/nodes/{node}/reboot?level=${l}` };
    return c;
  };

  it('escalates soft -> hard when the soft command fails', async ({ signal }) => {
    const bmc = await startBmc((l) => (l === 'hard' ? 200 : 503));
    try {
      const r = await rebootNode(
        'testsite',
        clusterWith(bmc.url, ['soft', 'hard', 'very_hard']),
        node,
        'soft',
        { timeoutMs: 5000, signal },
      );
      expect(r.ok && r.level).toBe('hard');
      expect(bmc.calls.map((c) => c.split('level=')[1])).toEqual(['soft', 'hard']);
    } finally {
      await bmc.close();
    }
  });

  it("fails with Kadeploy's message when the next level is not configured", async ({ signal }) => {
    const bmc = await startBmc(() => 500);
    try {
      const r = await rebootNode('testsite', clusterWith(bmc.url, ['soft', 'hard']), node, 'soft', {
        timeoutMs: 5000,
        signal,
      });
      expect(r).toMatchObject({ ok: false, reason: 'very_hard_reboot command is not provided' });
      expect(r.attempts.map((a) => a.level)).toEqual(['soft', 'hard']);
    } finally {
      await bmc.close();
    }
  });

  it('starts at hard for HardReboot and fails when hard is not provided', async ({ signal }) => {
    const r = await rebootNode('testsite', clusterWith('http://127.0.0.1:9', ['soft']), node, 'hard', {
      timeoutMs: 5000,
      signal,
    });
    expect(r).toMatchObject({ ok: false, reason: 'hard_reboot command is not provided', attempts: [] });
  });
});
