import { describe, expect, it } from 'vitest';
import { chainTopology } from '../../../src/engine/broadcast/relay-run.js';
import { chainsTopology, treeTopology } from '../../../src/engine/broadcast/tree.js';
import { nodeCommands } from '../../../src/formats/node-commands.js';

const names = ['a', 'b', 'c', 'd', 'e'];
const obj = (m: ReadonlyMap<string, readonly string[]>) => Object.fromEntries(m);

describe('relay topologies', () => {
  it('chain: node order, one root', () => {
    const t = chainTopology(names);
    expect(t.roots).toEqual(['a']);
    expect(obj(t.children)).toEqual({ a: ['b'], b: ['c'], c: ['d'], d: ['e'], e: [] });
  });

  it('tree: heap layout, fan-out 2', () => {
    const t = treeTopology(names);
    expect(t.roots).toEqual(['a']);
    expect(obj(t.children)).toEqual({ a: ['b', 'c'], b: ['d', 'e'], c: [], d: [], e: [] });
  });

  it('tree without multi-next relays: two interleaved chains fed by the engine', () => {
    const t = chainsTopology(names);
    expect(t.roots).toEqual(['a', 'b']);
    expect(obj(t.children)).toEqual({ a: ['c'], c: ['e'], e: [], b: ['d'], d: [] });
  });

  it('relay command lines: one --next per child, the sink quoted', () => {
    expect(
      nodeCommands.chainRelay(25400, ['127.0.0.2:25400', '127.0.0.3:25400'], "tar -C '/mnt/dest' -xf -"),
    ).toBe(
      "kaploy-relay --port 25400 --next 127.0.0.2:25400 --next 127.0.0.3:25400 -- sh -c 'tar -C '\\''/mnt/dest'\\'' -xf -'",
    );
    expect(nodeCommands.chainRelay(25400, undefined, 'true')).toBe('kaploy-relay --port 25400 -- sh -c true');
  });
});
