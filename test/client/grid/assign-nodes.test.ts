import { describe, expect, it } from 'vitest';
import { assignNodes } from '../../../src/client/grid/assign-nodes.js';

describe('assignNodes', () => {
  const live = [
    { name: 'orsay', nodes: ['gdx-1.orsay.grid5000.fr', 'gdx-2.orsay.grid5000.fr', 'shared-1.x'] },
    { name: 'rennes', nodes: ['paradent-1.rennes.grid5000.fr', 'shared-1.x'] },
  ];

  it('gives each node to the first server (configuration order) that knows it, in its spelling', () => {
    const a = assignNodes(
      ['GDX-2.orsay.grid5000.fr', 'paradent-1.rennes.grid5000.fr', 'shared-1.x'],
      live,
      [],
    );
    expect(a).toEqual({
      deploy: [
        { server: 'orsay', nodes: ['gdx-2.orsay.grid5000.fr', 'shared-1.x'] },
        { server: 'rennes', nodes: ['paradent-1.rennes.grid5000.fr'] },
      ],
      unreachable: [],
      leftovers: [],
    });
  });

  it('attributes unknown nodes to a dropped server named in their domain, the rest are leftovers', () => {
    const a = assignNodes(
      ['gdx-1.orsay.grid5000.fr', 'genepi-3.grenoble.grid5000.fr', 'node-9.nowhere', 'grenoble'],
      live,
      ['grenoble'],
    );
    expect(a.deploy).toEqual([{ server: 'orsay', nodes: ['gdx-1.orsay.grid5000.fr'] }]);
    expect(a.unreachable).toEqual([{ server: 'grenoble', nodes: ['genepi-3.grenoble.grid5000.fr'] }]);
    // A bare name equal to the server's is not "in its domain".
    expect(a.leftovers).toEqual(['node-9.nowhere', 'grenoble']);
  });
});
