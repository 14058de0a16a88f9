import { describe, expect, it } from 'vitest';
import { parseDescription } from '../../src/formats/environment/parse.js';
import { printDescription } from '../../src/formats/environment/print.js';

const YAML = `---
name: deb
version: 3
description: a test
author: me
visibility: shared
destructive: true
os: linux
image:
  file: http://depot/deb.tar.xz
  kind: tar
  compression: xz
preinstall:
  archive: /srv/pre.tgz
  compression: gzip
  script: pre.sh
postinstalls:
  - archive: /srv/post.tbz2
    compression: bzip2
    script: traitement.ash /rambin
  - archive: /srv/post2.tgz
    compression: gzip
boot:
  kernel: /vmlinuz
  initrd: /initrd.img
  kernel_params: console=ttyS0,115200
filesystem: ext4
partition_type: 0x83
`;

const KV = `name : squeeze
version : 5
description : desc
author : a@b
tarball : /srv/img.ddzst|ddzst
postinstall : /srv/p.tgz|tgz|traitement.ash /rambin,/srv/q.txz|txz|q.sh
kernel : /boot/vmlinuz
fdisktype : 83
filesystem : ext3
environment_kind : linux
visibility : private
demolishing_env : true
`;

const fail = (text: string, file = 'f.env') => {
  try {
    parseDescription(text, file);
  } catch (e) {
    return e as { code: string; message: string; fields: Record<string, unknown> };
  }
  throw new Error('expected a parse error');
};

describe('description parsers', () => {
  it('normalises the YAML 3.x format', () => {
    const { env, warnings } = parseDescription(YAML, 'deb.yaml');
    expect(warnings).toEqual([]);
    expect(env).toMatchObject({
      name: 'deb',
      version: 3,
      visibility: 'shared',
      destructive: true,
      image: { file: 'http://depot/deb.tar.xz', kind: 'tar', compression: 'xz' },
      preinstall: { archive: '/srv/pre.tgz', compression: 'gzip', script: 'pre.sh' },
      postinstalls: [
        { archive: '/srv/post.tbz2', compression: 'bzip2', script: 'traitement.ash /rambin' },
        { archive: '/srv/post2.tgz', compression: 'gzip', script: 'none' },
      ],
      boot: { kernel: '/vmlinuz', initrd: '/initrd.img', kernel_params: 'console=ttyS0,115200' },
      partition_type: 0x83,
      format: 'yaml',
    });
    expect(parseDescription(printDescription(env), 'again').env).toEqual(env);
  });

  it('normalises the key/value format, every tarball kind included', () => {
    const { env } = parseDescription(KV, 'sq.env');
    expect(env).toMatchObject({
      image: { file: '/srv/img.ddzst', kind: 'dd', compression: 'zstd' },
      postinstalls: [
        { archive: '/srv/p.tgz', compression: 'gzip', script: 'traitement.ash /rambin' },
        { archive: '/srv/q.txz', compression: 'xz', script: 'q.sh' },
      ],
      partition_type: 0x83,
      destructive: true,
      os: 'linux',
      format: 'keyvalue',
    });
    expect(parseDescription(printDescription(env), 'again').env).toEqual(env);
    for (const [k, kind, compression] of [
      ['tgz', 'tar', 'gzip'],
      ['tbz2', 'tar', 'bzip2'],
      ['txz', 'tar', 'xz'],
      ['tzst', 'tar', 'zstd'],
      ['ddgz', 'dd', 'gzip'],
      ['ddbz2', 'dd', 'bzip2'],
      ['ddxz', 'dd', 'xz'],
    ]) {
      expect(parseDescription(KV.replace('/srv/img.ddzst|ddzst', `/i|${k}`), 'x').env.image).toMatchObject({
        kind,
        compression,
      });
    }
  });

  it('warns about unknown keys with their line', () => {
    expect(parseDescription(`${YAML}colour: blue\n`, 'deb.yaml').warnings).toEqual([
      'deb.yaml:29: colour: Unused field (unknown key, ignored)',
    ]);
    expect(parseDescription(`${KV}colour : blue\n`, 'sq.env').warnings).toEqual([
      'sq.env:13: colour: Unused field (unknown key, ignored)',
    ]);
    expect(parseDescription(YAML.replace('  kind: tar', '  kind: tar\n  sha: 1'), 'd').warnings).toEqual([
      'd:12: image.sha: Unused field (unknown key, ignored)',
    ]);
  });

  it('reports malformed descriptions with file, line, key and what is expected', () => {
    expect(fail('name: [unclosed\n', 'a.yaml').message).toMatch(
      /^a\.yaml:2: \(yaml\): not valid YAML: Flow sequence/,
    );
    expect(fail(YAML.replace('name: deb\n', '')).message).toBe(
      'f.env:2: name: is mandatory (expected the environment name)',
    );
    expect(fail(YAML.replace('compression: xz', 'compression: rar')).message).toBe(
      "f.env:12: image.compression: 'rar' is not valid: expected one of gzip, bzip2, xz, zstd",
    );
    expect(fail(YAML.replace('kind: tar', 'kind: fsa')).message).toBe(
      'f.env:11: image.kind: fsa images are not supported: expected tar or dd',
    );
    expect(fail(YAML.replace('visibility: shared', 'visibility: everyone')).message).toBe(
      "f.env:6: visibility: 'everyone' is not valid: expected one of public, shared, private",
    );
    expect(fail(YAML.replace('version: 3', 'version: three')).message).toBe(
      "f.env:3: version: 'three' is not valid: expected an integer between 0 and 1000000",
    );
    expect(fail(YAML.replace('  kernel: /vmlinuz\n', '')).message).toBe(
      'f.env:24: boot.kernel: is mandatory for a tar image (expected the kernel path inside the image)',
    );
    expect(fail(YAML.replace('name: deb', 'name: "../../etc"')).message).toContain(
      "name: '../../etc' is not valid",
    );
    expect(fail(YAML.replace('postinstalls:\n', 'postinstalls: 3\nx:\n')).message).toMatch(
      /postinstalls: expected a list/,
    );
    expect(
      fail(YAML.replace('file: http://depot/deb.tar.xz', 'file: server://relative/x')).message,
    ).toContain('relative server path');
    expect(fail('- a\n- b\n').message).toBe('f.env:1: (top): expected a mapping of keys');
    expect(fail('').message).toBe('f.env: empty: expected a YAML or key/value description');
    expect(fail(YAML.replace('description: a test', 'description: "two\\nlines"')).message).toBe(
      'f.env:4: description: must be a single line',
    );
  });

  it('reports each kind of bad input with file, line and key', () => {
    // Unknown keys are warnings (as in Kadeploy), at any depth.
    expect(
      parseDescription(YAML.replace('  kernel: /vmlinuz', '  kernel: /vmlinuz\n  kernal: /x'), 'd').warnings,
    ).toEqual(['d:25: boot.kernal: Unused field (unknown key, ignored)']);
    expect(
      parseDescription(YAML.replace('  script: pre.sh', '  script: pre.sh\n  scrpit: x'), 'd').warnings,
    ).toEqual(['d:17: preinstall.scrpit: Unused field (unknown key, ignored)']);
    // Wrong types.
    expect(fail(YAML.replace('author: me', 'author: [me, you]')).message).toBe(
      'f.env:5: author: expected a string',
    );
    expect(fail(YAML.replace('boot:\n', 'boot: 3\nold_boot:\n')).message).toBe(
      'f.env:23: boot: expected a mapping of keys',
    );
    expect(fail(YAML.replace('destructive: true', 'destructive: maybe')).message).toBe(
      "f.env:7: destructive: 'maybe' is not valid: expected true or false",
    );
    // Out of range.
    expect(fail(YAML.replace('partition_type: 0x83', 'partition_type: 300')).message).toBe(
      "f.env:28: partition_type: '300' is not valid: expected an integer between 0 and 255",
    );
    expect(fail(YAML.replace('partition_type: 0x83', 'partition_type: "0x1ff"')).message).toBe(
      "f.env:28: partition_type: '0x1ff' is not valid: expected an integer between 0 and 255",
    );
    // Cross-field rules.
    expect(fail(YAML.replace('os: linux', 'os: xen')).message).toBe(
      'f.env:24: boot.hypervisor: is mandatory for a xen environment',
    );
    expect(fail(YAML.replace('filesystem: ext4', 'multipart: true')).message).toBe(
      'f.env:2: filesystem: is mandatory for a tar image (expected e.g. ext4)',
    );
    expect(fail(YAML.replace('os: linux\n', '')).message).toBe(
      'f.env:2: os: is mandatory (expected one of linux, xen, other)',
    );
  });

  it('reports malformed key/value descriptions by key and line', () => {
    expect(fail(KV.replace('tarball : /srv/img.ddzst|ddzst', 'tarball : /srv/img.tgz|zip')).message).toBe(
      "f.env:5: tarball: '/srv/img.tgz|zip' is not valid: expected FILE|KIND with KIND one of tgz, tbz2, txz, tzst, ddgz, ddbz2, ddxz, ddzst",
    );
    expect(fail(KV.replace('author : a@b', 'author = a@b')).message).toBe(
      "f.env:4: (line): expected 'key : value', got 'author = a@b'",
    );
    expect(fail(`${KV}name : again\n`).message).toBe('f.env:13: name: duplicate key (first given on line 1)');
    expect(fail(KV.replace('fdisktype : 83', 'fdisktype : zz')).message).toBe(
      "f.env:8: fdisktype: 'zz' is not valid: expected an integer between 0 and 255",
    );
    expect(fail(KV.replace('environment_kind : linux', 'environment_kind : windows')).message).toBe(
      "f.env:10: environment_kind: 'windows' is not valid: expected one of linux, xen, other",
    );
    expect(fail(KV.replace('filesystem : ext3\n', '').replace('ddzst|ddzst', 'tgz|tgz')).message).toBe(
      'f.env: filesystem: is mandatory for a tar image (expected e.g. ext4)',
    );
    expect(fail(KV.replace('name : squeeze\n', '')).message).toBe('f.env: name: is mandatory');
    expect(
      fail(KV.replace('postinstall : /srv/p.tgz|tgz|traitement.ash /rambin', 'postinstall : /srv/p.zip'))
        .message,
    ).toContain("f.env:6: postinstall: '/srv/p.zip' is not valid: expected FILE|KIND|SCRIPT");
  });
});
