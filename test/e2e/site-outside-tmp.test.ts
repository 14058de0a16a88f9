import { mkdirSync, mkdtempSync, rmSync } from 'node:fs';
import path from 'node:path';
import { afterAll, expect, it } from 'vitest';
import { testbedDown, testbedStatus, testbedUp } from '../../src/testbed/index.js';

/**
 * A virtual site in a directory outside /tmp (the demo's ./.kaploy/demo, the default
 * ./.kaploy/testbed): the nodes' sandboxes must still start (their inner bubblewrap needs a /tmp).
 */
const root = path.resolve(import.meta.dirname, '..', '..', '.kaploy');
let dir = '';

afterAll(async () => {
  if (dir) {
    await testbedDown(dir).catch(() => undefined);
    rmSync(dir, { recursive: true, force: true });
  }
});

it('boots a site whose directory is not under /tmp', async () => {
  mkdirSync(root, { recursive: true });
  dir = mkdtempSync(path.join(root, 'test-notmp-'));
  await testbedUp({ nodes: 2, site: 'notmp', dir, bootDelay: 50 });
  const st = await testbedStatus(dir);
  expect(st.nodes.map((n) => n.state)).toEqual(['production', 'production']);
});
