import { execFileSync } from 'node:child_process';
import { mkdtempSync, rmSync, writeFileSync } from 'node:fs';
import { createServer, type Server } from 'node:http';
import type { AddressInfo } from 'node:net';
import os from 'node:os';
import path from 'node:path';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { stringify } from 'yaml';
import { run } from '../engine/helpers/run.js';

/**
 * Hostile files and ranges given to the programs (issue: /dev/zero, FIFOs, huge ranges, an
 * unwritable -o): each is a bad command line, exit 3, refused before any request is sent. The
 * "server" only counts requests: any request reaching it fails the test.
 */
let dir: string;
let server: Server;
let requests = 0;
let env: NodeJS.ProcessEnv;
let fifo: string;

beforeAll(async () => {
  dir = mkdtempSync(path.join(os.tmpdir(), 'kaploy-hostile-'));
  server = createServer((_req, res) => {
    requests++;
    res.writeHead(500).end();
  });
  await new Promise<void>((resolve) => server.listen(0, '127.0.0.1', resolve));
  const { port } = server.address() as AddressInfo;
  const token = path.join(dir, 'token');
  writeFileSync(token, `${'t'.repeat(43)}\n`, { mode: 0o600 });
  const cfg = path.join(dir, 'client.yaml');
  writeFileSync(
    cfg,
    stringify({ default: 's', servers: { s: { url: `http://127.0.0.1:${port}`, token_file: token } } }),
  );
  env = {
    ...process.env,
    KAPLOY_CLIENT_CONFIG: cfg,
    KAPLOY_TOKEN_FILE: undefined,
    KAPLOY_LOG_LEVEL: 'silent',
  };
  fifo = path.join(dir, 'fifo');
  execFileSync('mkfifo', [fifo]);
  writeFileSync(path.join(dir, 'nodes'), 'node-1.site\n');
  writeFileSync(path.join(dir, 'key.pub'), 'ssh-ed25519 AAAAC3NzaC1lZDI1NTE5AAAAIBx me\n');
});

afterAll(async () => {
  await new Promise((resolve) => server?.close(resolve));
  rmSync(dir, { recursive: true, force: true });
});

const deploy = ['-e', 'env', '-u', 'deploy'];
const nodes = () => ['-f', path.join(dir, 'nodes')];

describe('hostile inputs to the programs: exit 3, nothing sent', () => {
  const cases: Array<[string, string, () => string[], RegExp]> = [
    ['kadeploy3', '-f /dev/zero', () => ['-f', '/dev/zero', ...deploy], /is a character device/],
    ['kadeploy3', '-f FIFO', () => ['-f', fifo, ...deploy], /is a FIFO/],
    ['kadeploy3', '-k FIFO', () => [...nodes(), ...deploy, '-k', fifo], /the key file .* is a FIFO/],
    [
      'kadeploy3',
      '-a /dev/zero',
      () => [...nodes(), '-a', '/dev/zero'],
      /the description file \/dev\/zero is a character device/,
    ],
    ['kadeploy3', '-o FIFO', () => [...nodes(), ...deploy, '-o', fifo], /-o .*fifo: a FIFO/],
    [
      'kadeploy3',
      '-n in a missing directory',
      () => [...nodes(), ...deploy, '-n', path.join(dir, 'none', 'ko')],
      /-n .*: cannot write: ENOENT/,
    ],
    [
      'kadeploy3',
      '-m a[1-1000]b[1-1000]c[1-1000]',
      () => ['-m', 'a[1-1000]b[1-1000]c[1-1000]', ...deploy],
      /names 1,000,000,000 nodes, more than the 100,000 allowed \[KAPLOY_NODE_LIST\]/,
    ],
    [
      'kadeploy3',
      '-m node-[1-1000]x[1-1000]',
      () => ['-m', 'node-[1-1000]x[1-1000]', ...deploy],
      /\[KAPLOY_NODE_LIST\]/,
    ],
    ['kaenv3', '-a /dev/zero', () => ['-a', '/dev/zero'], /is a character device/],
    ['kareboot3', '-f FIFO', () => ['-f', fifo], /is a FIFO/],
    ['kareboot3', '-o /dev/zero', () => [...nodes(), '-o', '/dev/zero'], /a character device/],
    ['kapower3', '-f /dev/zero', () => ['--on', '-f', '/dev/zero'], /is a character device/],
    ['karights3', '-f FIFO', () => ['-a', '-u', 'bob', '-p', '*', '-f', fifo], /is a FIFO/],
    ['kanodes3', '-f /dev/zero', () => ['-f', '/dev/zero'], /is a character device/],
  ];
  it.each(cases)('%s %s', async (prog, _what, args, why) => {
    const before = requests;
    const r = await run(prog, args(), { env, cwd: dir });
    expect(r.stderr).toMatch(why);
    expect(r.code, r.stderr).toBe(3);
    expect(requests - before).toBe(0);
  });
});
