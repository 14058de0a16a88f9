import { type ChildProcess, spawn } from 'node:child_process';
import { chmodSync, existsSync, mkdirSync, mkdtempSync, readFileSync, rmSync, writeFileSync } from 'node:fs';
import net from 'node:net';
import os from 'node:os';
import path from 'node:path';

/** Debian's nginx (scripts/setup.sh installs nginx-light). */
const NGINX = '/usr/sbin/nginx';

/** A real web server serving a user's public directory, as a site's web server does. */
export interface WebDepot {
  /** `http://127.0.0.1:PORT/~alice` */
  url: string;
  /** The directory it serves (the user's public_html). */
  publicHtml: string;
  /** Access log lines `METHOD PATH STATUS BYTES` (nginx writes each line when the request ends). */
  requests(): { method: string; path: string; status: number; bytes: number }[];
  stop(): Promise<void>;
}

export function freePort(): Promise<number> {
  return new Promise((resolve, reject) => {
    const s = net.createServer();
    s.on('error', reject);
    s.listen(0, '127.0.0.1', () => {
      const { port } = s.address() as net.AddressInfo;
      s.close(() => resolve(port));
    });
  });
}

async function answers(port: number): Promise<boolean> {
  return new Promise((resolve) => {
    const c = net.connect(port, '127.0.0.1', () => {
      c.destroy();
      resolve(true);
    });
    c.on('error', () => resolve(false));
  });
}

/** Starts nginx on a free loopback port with its whole configuration in a temporary directory. */
export async function startNginx(user = 'alice'): Promise<WebDepot> {
  const dir = mkdtempSync(path.join(os.tmpdir(), 'kaploy-nginx-'));
  // The workers run as another user when the test runs as root: the served tree is world-readable.
  chmodSync(dir, 0o755);
  const publicHtml = path.join(dir, 'home', user, 'public_html');
  mkdirSync(publicHtml, { recursive: true, mode: 0o755 });
  chmodSync(path.join(dir, 'home'), 0o755);
  chmodSync(path.join(dir, 'home', user), 0o755);
  const port = await freePort();
  const log = path.join(dir, 'access.log');
  const tmp = path.join(dir, 'tmp');
  mkdirSync(tmp);
  writeFileSync(
    path.join(dir, 'nginx.conf'),
    [
      'daemon off;',
      'worker_processes 1;',
      `pid ${dir}/nginx.pid;`,
      `error_log ${dir}/error.log;`,
      'events { worker_connections 64; }',
      'http {',
      "  log_format counted '$request_method $uri $status $body_bytes_sent';",
      `  access_log ${log} counted;`,
      ...['client_body', 'proxy', 'fastcgi', 'uwsgi', 'scgi'].map((t) => `  ${t}_temp_path ${tmp};`),
      `  server { listen 127.0.0.1:${port};`,
      `    location ~ ^/~${user}(/.*)$ { alias ${publicHtml}$1; } }`,
      '}',
      '',
    ].join('\n'),
  );
  const proc: ChildProcess = spawn(
    NGINX,
    ['-c', path.join(dir, 'nginx.conf'), '-p', dir, '-e', `${dir}/error.log`],
    {
      stdio: 'ignore',
    },
  );
  const exited = new Promise<void>((r) => proc.once('exit', () => r()));
  for (let i = 0; i < 200 && !(await answers(port)); i++) await new Promise((r) => setTimeout(r, 10));
  return {
    url: `http://127.0.0.1:${port}/~${user}`,
    publicHtml,
    requests: () =>
      (existsSync(log) ? readFileSync(log, 'utf8') : '')
        .split('\n')
        .filter(Boolean)
        .map((l) => {
          const [method = '', p = '', status = '0', bytes = '0'] = l.split(' ');
          return { method, path: p, status: Number(status), bytes: Number(bytes) };
        }),
    async stop() {
      proc.kill('SIGTERM');
      await exited;
      rmSync(dir, { recursive: true, force: true });
    },
  };
}
