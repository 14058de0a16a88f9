import { mkdtempSync, rmSync, writeFileSync } from 'node:fs';
import os from 'node:os';
import path from 'node:path';
import { afterAll, describe, expect, it } from 'vitest';
import { loadClientConfig } from '../../../src/client/client-config.js';
import { gridServers } from '../../../src/client/grid/grid-servers.js';

describe('gridServers: one token per server', () => {
  const d = mkdtempSync(path.join(os.tmpdir(), 'kaploy-grid-cfg-'));
  afterAll(() => rmSync(d, { recursive: true, force: true }));
  const f = path.join(d, 'client.yaml');
  writeFileSync(
    f,
    'default: rennes\nservers:\n  rennes: { url: "http://127.0.0.1:1", token_file: tok/rennes }\n  nancy: { url: "http://127.0.0.1:2" }\n',
  );
  const cfg = loadClientConfig(f);
  const tokens = (env: NodeJS.ProcessEnv) => gridServers(cfg, env).map((s) => [s.name, s.tokenFile]);

  it('keeps configuration order; a configured token_file wins over $KAPLOY_TOKEN_FILE', () => {
    expect(tokens({ KAPLOY_TOKEN_FILE: '/t/mine', HOME: '/home/u' })).toEqual([
      ['rennes', path.join(d, 'tok', 'rennes')],
      ['nancy', '/t/mine'],
    ]);
    expect(tokens({})[1]?.[1]).toMatch(/\.kaploy\/tokens\/nancy$/);
  });

  it('$KAPLOY_TOKEN_DIR/<server> overrides every server', () => {
    expect(tokens({ KAPLOY_TOKEN_DIR: '/grid/tokens', KAPLOY_TOKEN_FILE: '/t/mine' })).toEqual([
      ['rennes', '/grid/tokens/rennes'],
      ['nancy', '/grid/tokens/nancy'],
    ]);
  });
});
