import { describe, expect, it } from 'vitest';
import { assignNodes } from '../../../src/client/grid/assign-nodes.js';

describe('assignNodes', () => {
  const live = [
    { name: 'orsay', nodes: ['gdx-1.orsay.grid5000.fr', 'gdx-2.orsay.grid5000.fr', 'shared-1.x'] },
    { name: 'rennes', nodes: ['paradent-1.rennes.grid5000.fr', 'shared-1.x'] },
  ];

  it('gives each node to the server that serves it, in its spelling', () => {
    const a = assignNodes(['GDX-2.orsay.grid5000.fr', 'paradent-1.rennes.grid5000.fr'], live, []);
    expect(a).toEqual({
      deploy: [
        { server: 'orsay', nodes: ['gdx-2.orsay.grid5000.fr'] },
        { server: 'rennes', nodes: ['paradent-1.rennes.grid5000.fr'] },
      ],
      unreachable: [],
      leftovers: [],
      ambiguous: [],
    });
  });

  it('reports a requested node several servers serve as ambiguous, given to none', () => {
    const a = assignNodes(['gdx-1.orsay.grid5000.fr', 'SHARED-1.x'], live, []);
    expect(a.ambiguous).toEqual([{ node: 'shared-1.x', servers: ['orsay', 'rennes'] }]);
    expect(a.deploy).toEqual([{ server: 'orsay', nodes: ['gdx-1.orsay.grid5000.fr'] }]);
  });

  it('gives a node requested twice (in two spellings) once', () => {
    const a = assignNodes(['gdx-1.orsay.grid5000.fr', 'GDX-1.orsay.grid5000.fr'], live, []);
    expect(a.deploy).toEqual([{ server: 'orsay', nodes: ['gdx-1.orsay.grid5000.fr'] }]);
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
