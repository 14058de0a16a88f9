import { readFileSync } from 'node:fs';
import http from 'node:http';

/** One HTTP exchange with the listener, as Kadeploy's clients and g5k-api make them (real HTTP). */
export interface Answer {
  status: number;
  headers: http.IncomingHttpHeaders;
  text: string;
  /** The body's bytes as sent (not decoded: a gzip answer stays compressed). */
  raw: Buffer;
  json(): unknown;
}

export function call(
  base: string,
  method: string,
  path: string,
  o: { headers?: Record<string, string>; body?: unknown; yaml?: string; from?: string } = {},
): Promise<Answer> {
  const u = new URL(base + path);
  const payload = o.yaml !== undefined ? o.yaml : o.body !== undefined ? JSON.stringify(o.body) : undefined;
  const headers: Record<string, string> = {
    accept: 'text/plain, application/json',
    ...(payload !== undefined
      ? { 'content-type': o.yaml !== undefined ? 'application/x-yaml' : 'application/json' }
      : {}),
    ...o.headers,
  };
  return new Promise((resolve, reject) => {
    const req = http.request(
      {
        host: u.hostname,
        port: u.port,
        path: u.pathname + u.search,
        method,
        headers,
        ...(o.from ? { localAddress: o.from } : {}),
      },
      (res) => {
        const chunks: Buffer[] = [];
        res.on('data', (c: Buffer) => chunks.push(c));
        res.on('end', () => {
          const raw = Buffer.concat(chunks);
          const text = raw.toString('utf8');
          resolve({
            status: res.statusCode ?? 0,
            headers: res.headers,
            text,
            raw,
            json: () => JSON.parse(text),
          });
        });
      },
    );
    req.on('error', reject);
    req.end(payload);
  });
}

export const basic = (user: string, tokenFile: string) => ({
  authorization: `Basic ${Buffer.from(`${user}:${readFileSync(tokenFile, 'utf8').trim()}`).toString('base64')}`,
});

/** The decoded X-Application-Error-Info of a refusal, and its code. */
export function refusal(a: Answer): { code: string | undefined; info: string } {
  const info = a.headers['x-application-error-info'];
  return {
    code: a.headers['x-application-error-code'] as string | undefined,
    info: typeof info === 'string' ? Buffer.from(info, 'base64').toString('utf8') : '',
  };
}
