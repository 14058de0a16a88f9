import { mkdtempSync, rmSync, writeFileSync } from 'node:fs';
import os from 'node:os';
import path from 'node:path';
import { afterAll, describe, expect, it } from 'vitest';
import { loadClientConfig, pickServer } from '../../src/client/client-config.js';
import { gridServers } from '../../src/client/grid/grid-servers.js';

const dirs: string[] = [];
const tmp = () => {
  const d = mkdtempSync(path.join(os.tmpdir(), 'kaploy-cc-'));
  dirs.push(d);
  return d;
};
afterAll(() => {
  for (const d of dirs) rmSync(d, { recursive: true, force: true });
});

describe('client configuration', () => {
  it('reads servers, the default and -S NAME', () => {
    const d = tmp();
    const f = path.join(d, 'client.yaml');
    writeFileSync(
      f,
      'default: rennes\nservers:\n  rennes: { url: "http://127.0.0.1:1/", token_file: tok }\n  nancy: { url: "http://127.0.0.1:2" }\n',
    );
    const cfg = loadClientConfig(f);
    expect(pickServer(cfg).url).toBe('http://127.0.0.1:1');
    expect(pickServer(cfg).tokenFile).toBe(path.join(d, 'tok'));
    expect(pickServer(cfg, 'nancy').url).toBe('http://127.0.0.1:2');
    expect(() => pickServer(cfg, 'lyon')).toThrow(/unknown server 'lyon'; known: rennes, nancy/);
  });

  it('accepts a file with only an oargrid section; the engine commands then say no server is configured', () => {
    const f = path.join(tmp(), 'c.yaml');
    writeFileSync(f, 'oargrid:\n  aliases:\n    a: { site: sa, cluster: a, access: local }\n');
    const cfg = loadClientConfig(f);
    expect(cfg.oargrid?.aliases.get('a')).toEqual({ alias: 'a', site: 'sa', cluster: 'a' });
    expect(cfg.servers.size).toBe(0);
    for (const pick of [() => pickServer(cfg), () => pickServer(cfg, 'rennes'), () => gridServers(cfg)]) {
      expect(pick).toThrow(
        expect.objectContaining({
          code: 'KAPLOY_CONFIG',
          message: `${f} configures no server (no servers section): this command talks to an engine; only oargridsub, oargridstat and oargriddel work without one (docs/configuration.md)`,
        }),
      );
    }
  });

  it('reads server_timeout in seconds (30 by default) and refuses a bad one with file and key', () => {
    const d = tmp();
    const f = path.join(d, 'c.yaml');
    writeFileSync(f, 'servers:\n  a: { url: "http://x" }\n');
    expect(loadClientConfig(f).serverTimeoutMs).toBe(30_000);
    writeFileSync(f, 'server_timeout: 5\nservers:\n  a: { url: "http://x" }\n');
    expect(loadClientConfig(f).serverTimeoutMs).toBe(5_000);
    for (const bad of ['0', '3601', 'soon', '1.5']) {
      writeFileSync(f, `server_timeout: ${bad}\nservers:\n  a: { url: "http://x" }\n`);
      expect(() => loadClientConfig(f), bad).toThrow(
        /c\.yaml.*server_timeout: expected a whole number of seconds between 1 and 3600/s,
      );
    }
  });

  it('refuses bad configurations with file and key', () => {
    const d = tmp();
    const f = path.join(d, 'c.yaml');
    writeFileSync(f, 'servers:\n  a: { url: "ftp://x" }\n');
    expect(() => loadClientConfig(f)).toThrow(/servers\.a\.url: expected an http\(s\) URL/);
    writeFileSync(f, 'default: b\nservers:\n  a: { url: "http://x" }\n');
    expect(() => loadClientConfig(f)).toThrow(/default: 'b' is not one of the servers/);
    expect(() => loadClientConfig(path.join(d, 'missing.yaml'))).toThrow(
      /cannot read the client configuration/,
    );
  });

  it.each([
    [
      'an unknown key, near miss',
      'servers:\n  a: { url: "http://x", tokenfile: t }\n',
      'c.yaml: servers.a.tokenfile: unknown key; did you mean token_file? (known: url, ca, token_file) (line 2)',
    ],
    [
      'an unknown top key',
      'defaults: a\nservers:\n  a: { url: "http://x" }\n',
      'defaults: unknown key; did you mean default?',
    ],
    [
      'servers of the wrong type',
      'servers: [a, b]\n',
      'servers: expected a mapping of server names (line 1)',
    ],
    [
      'a server without url',
      'servers:\n  a: { token_file: t }\n',
      'servers.a.url: expected an http(s) URL (line 2)',
    ],
    ['no server at all', 'servers: {}\n', 'servers: expected at least one server'],
    [
      'neither servers nor an oargrid section',
      'server_timeout: 5\n',
      'servers: required (the engines, by name), unless the file has an oargrid section',
    ],
    [
      'a default with no servers',
      'default: a\noargrid:\n  aliases: { x: { site: s, access: local } }\n',
      "default: 'a' is not one of the servers (the file has none) (line 1)",
    ],
    [
      'a default that is no server',
      'default: b\nservers:\n  a: { url: "http://x" }\n',
      "default: 'b' is not one of the servers (line 1)",
    ],
  ])('refuses %s, naming file, key and line', (_what, text, message) => {
    const f = path.join(tmp(), 'c.yaml');
    writeFileSync(f, text);
    expect(() => loadClientConfig(f)).toThrow(`${f}: `);
    expect(() => loadClientConfig(f)).toThrow(message.replace('c.yaml: ', ''));
  });
});
