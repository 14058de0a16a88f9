import { describe, expect, it } from 'vitest';
import { isYamlSyntaxError, parseYamlSource } from '../../src/common/config/yaml-source.js';
import { foldNodes } from '../../src/engine/workflow/fold-nodes.js';
import { parseDescription } from '../../src/formats/environment/parse.js';
import { expandRange } from '../../src/formats/node-names.js';

// Defects the fuzzers found, each kept as a plain test.

const base = 'name: x\nos: other\nimage: {file: x.dd.gz, kind: dd, compression: gzip}\n';

describe('YAML nesting is bounded before parsing', () => {
  it('a compact mapping nested 20,000 deep is a KAPLOY_FILE error, not a stack overflow', () => {
    const text = `${base}boot:\n  hypervisor: ${'/b: '.repeat(20_000)}x\n`;
    expect(() => parseDescription(text, 'deep.yaml')).toThrow(
      expect.objectContaining({
        code: 'KAPLOY_FILE',
        message: expect.stringContaining('nests more than 64 levels'),
      }),
    );
  });

  it('flow collections and block sequences nested too deep are refused at once', () => {
    for (const text of [
      `name: ${'['.repeat(50_000)}`,
      `${'- '.repeat(50_000)}x`,
      `image: ${'{a: '.repeat(20_000)}`,
    ]) {
      const r = parseYamlSource(text);
      expect(isYamlSyntaxError(r) && r.message).toMatch(/nests more than 64 levels deep/);
    }
  });

  it('brackets, quotes and colons inside values are not nesting', () => {
    const text = `${base}description: "it's [[[[[[ not {{{{ nested: at: all"\nauthor: 'a [b] {c}'\nboot:\n  kernel_params: console=ttyS0 a[1]=b\n`;
    const { env } = parseDescription(text, 'ok.yaml');
    expect(env.description).toBe("it's [[[[[[ not {{{{ nested: at: all");
    expect(env.boot.kernel_params).toBe('console=ttyS0 a[1]=b');
    // 64 levels is allowed.
    expect(isYamlSyntaxError(parseYamlSource(`a: ${'['.repeat(60)}${']'.repeat(60)}`))).toBe(false);
  });
});

describe('YAML errors cost one context, not one per error', () => {
  it('a 250,000-quote line (125,000 errors): the first error, with its line and column', () => {
    // Its parse time (a minute before, with yaml's prettyErrors) is measured by
    // bench/hostile-yaml.mjs; here the message it gives without them.
    const text = `{"nodes"${'"'.repeat(250_000)}`;
    expect(() => parseDescription(text, 'quotes.yaml')).toThrow(
      expect.objectContaining({
        code: 'KAPLOY_FILE',
        fields: expect.objectContaining({ line: 1 }),
        message:
          'quotes.yaml:1: (yaml): not valid YAML: Missing , or : between flow map items at line 1, column 9:',
      }),
    );
  });

  it('messages keep the form they had: the first line, its line and column', () => {
    expect(() => parseDescription('name: x\n\tos: linux\n', 'tab.yaml')).toThrow(
      'tab.yaml:2: (yaml): not valid YAML: Tabs are not allowed as indentation at line 2, column 1:',
    );
  });
});

describe('YAML warnings are not printed', () => {
  it('a mapping used as a key is not a warning on stderr', async () => {
    const warnings: string[] = [];
    const onWarning = (w: Error) => warnings.push(w.message);
    process.on('warning', onWarning);
    try {
      const { warnings: remarks } = parseDescription(`${base}? {script: none}\n: x\n`, 'key.yaml');
      expect(remarks).toEqual(['key.yaml:1: { script: none }: Unused field (unknown key, ignored)']);
      await new Promise((resolve) => setImmediate(resolve));
    } finally {
      process.off('warning', onWarning);
    }
    expect(warnings).toEqual([]);
  });
});

describe('folded node sets expand back', () => {
  it('a number longer than a range bound is printed as is', () => {
    const names = ['xq8770769191', 'xq8770769192', 'node-3', 'node-4'];
    const folded = foldNodes(names);
    expect(folded).toBe('xq8770769191,xq8770769192,node-[3-4]');
    expect(folded.split(/,(?![^[]*\])/).flatMap((p) => expandRange(p))).toEqual(names);
  });
});
