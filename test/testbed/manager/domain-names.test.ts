import { mkdtempSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import path from 'node:path';
import { afterAll, describe, expect, it } from 'vitest';
import { planNodes } from '../../../src/testbed/manager/addresses.js';
import { validateUpOptions } from '../../../src/testbed/manager/up-options.js';

const tmp = mkdtempSync(path.join(tmpdir(), 'kaploy-domain-'));
afterAll(() => rmSync(tmp, { recursive: true, force: true }));

describe('kaploy testbed up --domain', () => {
  it("names nodes node-N.SITE.DOMAIN, as Grid'5000 does", () => {
    const o = validateUpOptions({
      nodes: '3',
      site: 'rennes',
      domain: 'grid5000.fr',
      dir: path.join(tmp, 'd'),
    });
    expect(o.domain).toBe('grid5000.fr');
    expect(planNodes(o.site, o.nodes, o.domain).map((n) => n.name)).toEqual([
      'node-1.rennes.grid5000.fr',
      'node-2.rennes.grid5000.fr',
      'node-3.rennes.grid5000.fr',
    ]);
    // Without it, as before; the addresses do not depend on the domain.
    const plain = planNodes('rennes', 3);
    expect(plain.map((n) => n.name)).toEqual(['node-1.rennes', 'node-2.rennes', 'node-3.rennes']);
    expect(plain.map((n) => n.address)).toEqual(planNodes('rennes', 3, 'grid5000.fr').map((n) => n.address));
  });
});
