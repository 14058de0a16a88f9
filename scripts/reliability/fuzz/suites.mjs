// Grammar-driven fuzz suites, one per parser of outside input. Each takes `api` (the parsers, from
// src in the tests or from dist in the reliability scenario: the library imports neither) and
// runs `n` generated cases of three kinds: valid (accepted, equal to what the grammar built, round
// trip where one exists), hostile (refused with a KaployError of the expected code) and mutated
// (refused that way or accepted with a value that passes the suite's invariant).
import { spawn } from 'node:child_process';
import { createHash } from 'node:crypto';
import { mkdtempSync, readFileSync, rmSync, writeFileSync } from 'node:fs';
import os from 'node:os';
import path from 'node:path';
import { gzipSync } from 'node:zlib';
import { runCase, runCaseAsync, sameJson } from './checks.mjs';
import { ALNUM, DIGITS, HOSTILE, LOWER, mutateMany } from './grammar.mjs';

// ---------------------------------------------------------------- node names and ranges

const HOST_OK = /^[A-Za-z0-9][A-Za-z0-9.-]{0,252}$/;
const validHost = (n) => HOST_OK.test(n) && !n.includes('..');

const label = (rng) => rng.pick(LOWER) + rng.chars(`${LOWER}${DIGITS}-`, 0, 8);
const domain = (rng) => rng.pick(['', '', `.${label(rng)}`, `.${label(rng)}.${label(rng)}`]);

/** One range item and the numbers (as printed) it stands for. */
function rangeItem(rng) {
  const padded = rng.chance(0.25);
  const width = padded ? rng.int(2, 4) : 0;
  const from = padded ? rng.int(0, 10 ** (width - 1) - 1) : rng.int(0, 300);
  const to = rng.chance(0.3) ? from : from + rng.int(0, 40);
  const fmt = (i) => String(i).padStart(width, '0');
  const text = to === from ? fmt(from) : `${fmt(from)}-${fmt(to)}`;
  const nums = [];
  for (let i = from; i <= to; i++) nums.push(fmt(i));
  return { text, nums };
}

/** A node-set spec (`gdx-[1-3,7].site`) built by the grammar, with its expansion. */
export function genNodeSpec(rng) {
  const groups = rng.int(0, 2);
  let names = [''];
  let text = '';
  const lit = (s) => {
    text += s;
    names = names.map((n) => n + s);
  };
  lit(`${label(rng)}${rng.pick(['-', '', 'x'])}`);
  for (let g = 0; g < groups; g++) {
    if (g > 0) lit(rng.pick(['-', 'x', '.r', 'c']));
    const items = rng.many(rangeItem, 1, 3);
    text += `[${items.map((i) => i.text).join(',')}]`;
    const next = [];
    for (const n of names) for (const it of items) for (const k of it.nums) next.push(n + k);
    names = next;
  }
  lit(domain(rng));
  return { text, names };
}

const notInAlphabet = HOSTILE.filter((h) => /[^A-Za-z0-9.\-[\],]/.test(h));

function insertHostile(rng, text) {
  const at = rng.int(0, text.length);
  return text.slice(0, at) + rng.pick(notInAlphabet) + text.slice(at);
}

/** Inside a line (not at its ends, where blanks are trimmed), a character no name may hold. */
const notInLine = notInAlphabet.filter((h) => !/[\r\n]/.test(h) && h.trim() !== '');
function insertHostileInside(rng, text) {
  const at = rng.int(1, Math.max(1, text.length - 1));
  return text.slice(0, at) + rng.pick(notInLine) + text.slice(at);
}

/** A spec whose product of group sizes is far above any bound (10^6 .. 10^12 names). */
function bombSpec(rng) {
  const groups = rng.int(2, 4);
  let s = 'n';
  for (let i = 0; i < groups; i++)
    s += `[1-${rng.pick([1000, 5000, 100000, 999999])}]${rng.pick(['x', '-', 'c'])}`;
  return s;
}

function namesCheck(max) {
  return (names) => {
    if (!Array.isArray(names)) return `not a list: ${typeof names}`;
    if (names.length > max) return `${names.length} names, more than ${max}`;
    const bad = names.find((n) => typeof n !== 'string' || !validHost(n));
    return bad === undefined ? undefined : `accepted invalid name '${bad}'`;
  };
}

/** Top-level commas separate node sets in a folded list; commas inside brackets separate ranges. */
function splitTopLevel(text) {
  const out = [];
  let depth = 0;
  let start = 0;
  for (let i = 0; i < text.length; i++) {
    if (text[i] === '[') depth++;
    else if (text[i] === ']') depth--;
    else if (text[i] === ',' && depth === 0) {
      out.push(text.slice(start, i));
      start = i + 1;
    }
  }
  out.push(text.slice(start));
  return out;
}

function nodeNamesSuite(rng, n, api, tally) {
  const S = 'node names';
  const codes = ['KAPLOY_NODE_LIST'];
  for (let i = 0; i < n; i++) {
    const spec = genNodeSpec(rng);
    const kind = i % 5;
    if (kind === 0 || kind === 1) {
      runCase(tally, api, S, spec.text, () => api.expandRange(spec.text), {
        expect: 'accept',
        check: (names) =>
          sameJson(names, spec.names) ? undefined : `expanded to ${JSON.stringify(names).slice(0, 200)}`,
      });
      // Round trip: fold the set, expand every folded part, get the same set back.
      const unique = [...new Set(spec.names)];
      runCase(
        tally,
        api,
        `${S} fold`,
        spec.text,
        () => splitTopLevel(api.foldNodes(unique)).flatMap((part) => api.expandRange(part)),
        {
          expect: 'accept',
          check: (back) =>
            sameJson([...new Set(back)].sort(), [...unique].sort())
              ? undefined
              : `fold '${api.foldNodes(unique).slice(0, 200)}' expands to another set`,
        },
      );
    } else if (kind === 2) {
      const bad = insertHostile(rng, spec.text);
      runCase(tally, api, S, bad, () => api.expandRange(bad), { expect: 'refuse', codes });
    } else if (kind === 3) {
      const bomb = bombSpec(rng);
      runCase(tally, api, S, bomb, () => api.expandRange(bomb), { expect: 'refuse', codes });
    } else {
      const m = mutateMany(rng, spec.text);
      runCase(tally, api, S, m, () => api.expandRange(m), {
        expect: 'either',
        codes,
        check: namesCheck(api.MAX_NODES),
      });
    }
  }
}

// ---------------------------------------------------------------- node files

function nodeFileSuite(rng, n, api, tally) {
  const S = 'node files';
  const codes = ['KAPLOY_NODE_LIST'];
  for (let i = 0; i < n; i++) {
    const lines = [];
    const expected = [];
    const seen = new Set();
    const count = rng.int(0, 30);
    for (let l = 0; l < count; l++) {
      const r = rng.int(0, 9);
      if (r === 0) lines.push(rng.pick(['', '   ', '\t']));
      else if (r === 1) lines.push(`# ${rng.chars(`${ALNUM} ;|&$`, 0, 20)}`);
      else {
        const host = `${label(rng)}-${rng.int(1, 50)}${domain(rng)}`;
        const spec = r === 2 ? genNodeSpec(rng) : { text: host, names: [host] };
        const copies = rng.int(1, 3); // OAR repeats a host once per core
        for (let c = 0; c < copies; c++)
          lines.push(rng.pick(['', ' ', '\t']) + spec.text + rng.pick(['', ' ']));
        for (const name of spec.names) {
          if (!seen.has(name)) expected.push(name);
          seen.add(name);
        }
      }
    }
    const eol = rng.pick(['\n', '\r\n']);
    const text = lines.join(eol) + (rng.chance(0.5) ? eol : '');
    const kind = i % 3;
    if (kind === 0) {
      runCase(tally, api, S, text, () => api.parseNodeFile(text, 'fuzz.nodes'), {
        expect: 'accept',
        check: (names) =>
          sameJson(names, expected) ? undefined : 'not the distinct names in first-seen order',
      });
    } else if (kind === 1) {
      const at = rng.int(0, lines.length);
      const bad = [
        ...lines.slice(0, at),
        insertHostileInside(rng, `${label(rng)}-1`),
        ...lines.slice(at),
      ].join('\n');
      runCase(tally, api, S, bad, () => api.parseNodeFile(bad, 'fuzz.nodes'), {
        expect: 'refuse',
        codes,
      });
    } else {
      const m = mutateMany(rng, text);
      runCase(tally, api, S, m, () => api.parseNodeFile(m, 'fuzz.nodes'), {
        expect: 'either',
        codes,
        check: namesCheck(api.MAX_NODES),
      });
    }
  }
}

// ---------------------------------------------------------------- --force-steps and breakpoints

/** A --force-steps string of the grammar and its canonical form (formatPlan's). */
function genForceSteps(rng, api) {
  const parts = [];
  const canon = [];
  for (const macro of api.MACRO_STEPS) {
    const items = rng.many(
      () =>
        `${rng.pick(api.IMPLEMENTATIONS[macro])}:${rng.int(0, rng.pick([3, 100]))}:${rng.int(0, rng.pick([1000, 604800]))}`,
      1,
      3,
    );
    parts.push(`${macro}|${items.join(',')}${rng.chance(0.15) ? ',' : ''}`);
    canon.push(`${macro}|${items.join(',')}`);
  }
  const pad = () => rng.pick(['', '', ' ', '\t']);
  return { text: `${pad()}${parts.join('&')}${pad()}`, canonical: canon.join('&') };
}

function planCheck(api) {
  return (plan) => {
    for (const macro of api.MACRO_STEPS) {
      const items = plan?.[macro];
      if (!Array.isArray(items) || items.length === 0) return `${macro} has no implementation`;
      for (const it of items) {
        if (!api.IMPLEMENTATIONS[macro].includes(it.impl)) return `${it.impl} accepted in ${macro}`;
        if (!Number.isSafeInteger(it.retries) || it.retries < 0 || it.retries > 100)
          return `retries ${it.retries}`;
        if (!Number.isSafeInteger(it.timeoutSec) || it.timeoutSec < 0 || it.timeoutSec > 604800)
          return `timeout ${it.timeoutSec}`;
      }
    }
    return undefined;
  };
}

function forceStepsSuite(rng, n, api, tally) {
  const S = '--force-steps';
  const codes = ['KAPLOY_OPTION'];
  for (let i = 0; i < n; i++) {
    const g = genForceSteps(rng, api);
    if (i % 3 === 0) {
      runCase(tally, api, S, g.text, () => api.formatPlan(api.parseForceSteps(g.text)), {
        expect: 'accept',
        check: (back) => (back === g.canonical ? undefined : `round trip gave '${back}'`),
      });
    } else if (i % 3 === 1) {
      // Hostile: a value out of bounds, a foreign implementation, a missing or repeated macro-step.
      const bad = rng.pick([
        () => g.text.replace(/:(\d+):/, ':101:'),
        () => g.text.replace(/:(\d+)(,|&|$)/, ':604801$2'),
        () => g.text.replace(/\|[A-Za-z]+/, '|SetDeploymentEnvNope'),
        () => g.text.split('&').slice(0, 2).join('&'),
        () => `${g.text}&${g.text.split('&')[0]}`,
        () => g.text.replace(/:(\d+):/, ':-1:'),
        () => insertHostile(rng, g.text).replace(/^\s+|\s+$/g, '') + ';',
      ])();
      runCase(tally, api, S, bad, () => api.parseForceSteps(bad), { expect: 'refuse', codes });
    } else {
      const m = mutateMany(rng, g.text);
      runCase(tally, api, S, m, () => api.parseForceSteps(m), {
        expect: 'either',
        codes,
        check: planCheck(api),
      });
    }
  }
}

function genWorkflowOptions(rng) {
  return {
    os: rng.pick(['linux', 'xen', 'other']),
    imageKind: rng.pick(['tar', 'dd']),
    key: rng.chance(0.5),
    disableDiskPartitioning: rng.chance(0.3),
    userPostinstall: rng.chance(0.5),
    adminPostinstall: rng.chance(0.5),
    preinstall: rng.chance(0.3),
    disableBootloaderInstall: rng.chance(0.3),
    noKexec: rng.chance(0.3),
    ...(rng.chance(0.3) ? { reformatTmp: 'ext4' } : {}),
  };
}

function breakpointSuite(rng, n, api, tally) {
  const S = 'breakpoints';
  const codes = ['KAPLOY_OPTION'];
  for (let i = 0; i < n; i++) {
    const plan = api.parseForceSteps(genForceSteps(rng, api).text);
    const opts = genWorkflowOptions(rng);
    const planned = api.plannedSteps(plan, opts);
    const p = rng.pick(planned);
    const step = rng.chance(0.5) ? p.impl : p.macro;
    const text = rng.chance(0.4) ? step : `${step}:${p.micro}`;
    const runsIt = (bp) =>
      planned.some(
        (q) =>
          (q.impl === bp.step || q.macro === bp.step) && (bp.micro === undefined || q.micro === bp.micro),
      )
        ? undefined
        : `breakpoint ${JSON.stringify(bp)} is not in the workflow`;
    if (i % 3 === 0) {
      runCase(tally, api, S, text, () => api.parseBreakpoint(text, plan, opts), {
        expect: 'accept',
        check: runsIt,
      });
    } else if (i % 3 === 1) {
      const bad = rng.pick([
        () => `${step}:${p.micro}:${p.micro}`,
        () => `${text}${rng.pick([';', ' ', '/', '|', '\n'])}x`,
        () => `${step}:no_such_micro_step`,
        () => 'NoSuchMacroStep',
        () => '',
      ])();
      runCase(tally, api, S, bad, () => api.parseBreakpoint(bad, plan, opts), { expect: 'refuse', codes });
    } else {
      const m = mutateMany(rng, text);
      runCase(tally, api, S, m, () => api.parseBreakpoint(m, plan, opts), {
        expect: 'either',
        codes,
        check: runsIt,
      });
    }
  }
}

// ---------------------------------------------------------------- environment descriptions

const word = (rng) => rng.chars(ALNUM, 1, 10);
const lineText = (rng) => rng.chars(`${ALNUM} .,;:/_-'"()[]{}<>!?@#%*+=~$\``, 0, 40).trim();
const fileRef = (rng, ext) =>
  rng.pick([
    () => `http://images.example.org/${word(rng)}/${word(rng)}.${ext}`,
    () => `https://[::1]:8443/${word(rng)}.${ext}?a=1&b=${word(rng)}`,
    () => `server:///srv/images/${word(rng)}.${ext}`,
    () => `/home/${word(rng)}/${word(rng)}.${ext}`,
    () => `${word(rng)}.${ext}`,
  ])();

/** An environment the grammar builds (what a description means once parsed). */
function genEnvironment(rng, format) {
  const kind = rng.pick(['tar', 'dd']);
  const compression = rng.pick(['gzip', 'bzip2', 'xz', 'zstd']);
  const os = rng.pick(['linux', 'linux', 'xen', 'other']);
  const archive = () => ({
    archive: fileRef(rng, 'tgz'),
    compression: rng.pick(['gzip', 'bzip2', 'xz', 'zstd']),
    script: rng.pick(['none', 'traitement.ash /rambin', `${word(rng)}.sh`]),
    md5: '',
  });
  const boot = {};
  if (kind === 'tar' && os !== 'other') boot.kernel = `/boot/vmlinuz-${word(rng)}`;
  if (rng.chance(0.5)) boot.initrd = `/boot/initrd-${word(rng)}`;
  if (rng.chance(0.5)) boot.kernel_params = `console=ttyS0 root=/dev/sda${rng.int(1, 9)} ${word(rng)}=1`;
  if (os === 'xen') boot.hypervisor = `/boot/xen-${word(rng)}.gz`;
  if (os === 'xen' && rng.chance(0.5)) boot.hypervisor_params = `dom0_mem=${rng.int(1, 9)}G`;
  const env = {
    name: rng.pick(ALNUM) + rng.chars(`${ALNUM}._+-`, 0, 30),
    version: rng.int(0, 1_000_000),
    description: lineText(rng),
    author: rng.chance(0.7) ? `${word(rng)}@${word(rng)}.org` : '',
    visibility: rng.pick(['public', 'shared', 'private']),
    destructive: rng.chance(0.3),
    os,
    image: { file: fileRef(rng, kind === 'tar' ? 'tgz' : 'dd.gz'), kind, compression, md5: '' },
    postinstalls: rng.many(archive, 0, 3),
    boot,
    partition_type: rng.int(0, 255),
    format,
  };
  if (rng.chance(0.3)) env.preinstall = archive();
  if (kind === 'tar' || rng.chance(0.5)) env.filesystem = rng.pick(['ext4', 'ext3', 'xfs', 'btrfs']);
  return env;
}

/** What must hold of any environment a description parses into, whatever the text. */
function envCheck(env) {
  const one = (v) => typeof v === 'string' && !/[\0\r\n]/.test(v);
  if (!env || typeof env !== 'object') return 'not an environment';
  if (!/^[A-Za-z0-9][A-Za-z0-9._+-]{0,127}$/.test(env.name)) return `accepted name '${env.name}'`;
  if (!Number.isInteger(env.version) || env.version < 0 || env.version > 1_000_000)
    return `version ${env.version}`;
  if (!Number.isInteger(env.partition_type) || env.partition_type < 0 || env.partition_type > 255)
    return `partition_type ${env.partition_type}`;
  if (!['public', 'shared', 'private'].includes(env.visibility)) return `visibility ${env.visibility}`;
  if (!['linux', 'xen', 'other'].includes(env.os)) return `os ${env.os}`;
  if (!['tar', 'dd'].includes(env.image?.kind)) return `image kind ${env.image?.kind}`;
  const archives = [...env.postinstalls, ...(env.preinstall ? [env.preinstall] : [])];
  for (const c of [env.image.compression, ...archives.map((a) => a.compression)])
    if (!['gzip', 'bzip2', 'xz', 'zstd'].includes(c)) return `compression ${c}`;
  const texts = [
    env.description,
    env.author,
    env.image.file,
    ...Object.values(env.boot),
    ...archives.flatMap((a) => [a.archive, a.script]),
  ];
  if (!texts.every(one)) return 'accepted a text with a NUL, CR or newline';
  if (env.image.file === '' || archives.some((a) => a.archive === '')) return 'accepted an empty file';
  if (env.filesystem !== undefined && !/^[a-z0-9]{2,16}$/.test(env.filesystem))
    return `filesystem '${env.filesystem}'`;
  if (typeof env.destructive !== 'boolean') return 'destructive is not a boolean';
  return undefined;
}

/** What a description says of an environment, for comparing a round trip. */
function comparable(env) {
  const a = (x) => ({ archive: x.archive, compression: x.compression, script: x.script });
  return {
    name: env.name,
    version: env.version,
    description: env.description,
    author: env.author,
    visibility: env.visibility,
    destructive: env.destructive,
    os: env.os,
    image: { file: env.image.file, kind: env.image.kind, compression: env.image.compression },
    postinstalls: env.postinstalls.map(a),
    preinstall: env.preinstall ? a(env.preinstall) : null,
    boot: Object.fromEntries(Object.entries(env.boot).sort()),
    filesystem: env.filesystem ?? null,
    partition_type: env.partition_type,
  };
}

const YAML_HOSTILE = [
  // Alias bomb: 9 levels of 9 aliases.
  () => {
    let s = 'a0: &a0 ["x","x","x","x","x","x","x","x","x"]\n';
    for (let i = 1; i < 9; i++)
      s += `a${i}: &a${i} [${Array(9)
        .fill(`*a${i - 1}`)
        .join(',')}]\n`;
    return `${s}name: *a8\nimage: {file: x.tgz, kind: tar, compression: gzip}\n`;
  },
  () => `name: ${'['.repeat(50_000)}`,
  () => `name: x\nimage: ${'{a: '.repeat(20_000)}`,
  () => `${'- '.repeat(50_000)}x`,
  () => 'name: x\nname: y\nos: linux\nimage: {file: x.tgz, kind: tar, compression: gzip}\n',
  () => '!!binary AAAA',
  () => 'name: !!js/function "function(){}"\n',
  () => `name: x\nos: linux\nimage: {file: "a\\nb.tgz", kind: dd, compression: gzip}\n`,
  () => '--- \n...\n---\nname: two docs\n',
  () =>
    `name: x\nversion: ${'9'.repeat(400)}\nos: other\nimage: {file: x.dd.gz, kind: dd, compression: gzip}\n`,
  () => 'name: x\nos: other\nimage: {file: x.dd.gz, kind: dd, compression: gzip}\npartition_type: 0x1ff\n',
  () =>
    'name: x\nos: other\n__proto__: {polluted: 1}\nimage: {file: x.dd.gz, kind: dd, compression: gzip}\nboot: {kernel: [1,2]}\n',
  () => `tarball : x.tgz|tgz\nname : x\n${'postinstall : a.tgz|tgz|s\n'.repeat(2)}`,
  () => 'tarball : x.tgz|tgz|zz\nname : x\n',
  () => `tarball : x.tgz|tgz\nname : ${'x'.repeat(129)}\n`,
  () => 'tarball : |tgz\nname : x\nkernel : /k\nfilesystem : ext4\n',
  () => 'tarball : x.ddgz|ddgz\nname : x\nfdisktype : zz\n',
  () => 'tarball : x.ddgz|ddgz\nname : x\n\0\n',
  () => `tarball : x.ddgz|ddgz\nname : x\ndescription : ${'y'.repeat(300 * 1024)}\n`,
];

function descriptionSuite(rng, n, api, tally) {
  const S = 'descriptions';
  const codes = ['KAPLOY_FILE'];
  for (let i = 0; i < n; i++) {
    const format = rng.pick(['yaml', 'keyvalue']);
    const env = genEnvironment(rng, format);
    const text = api.printDescription(env, format);
    const kind = i % 4;
    if (kind <= 1) {
      // Valid: the printed description parses back into the same environment (kaenv3 -p | kaenv3 -a).
      runCase(tally, api, `${S} (${format})`, text, () => api.parseDescription(text, 'fuzz.env'), {
        expect: 'accept',
        check: (p) => {
          if (p.warnings.length > 0) return `warnings: ${p.warnings.join('; ')}`;
          const bad = envCheck(p.env);
          if (bad) return bad;
          return sameJson(comparable(p.env), comparable(env))
            ? undefined
            : `round trip differs: ${JSON.stringify(comparable(p.env)).slice(0, 300)}`;
        },
      });
    } else if (kind === 2) {
      const h = rng.pick(YAML_HOSTILE)();
      runCase(tally, api, S, h, () => api.parseDescription(h, 'fuzz.env'), {
        expect: 'either',
        codes,
        check: (p) => envCheck(p.env),
      });
    } else {
      const m = mutateMany(rng, text);
      runCase(tally, api, `${S} (${format})`, m, () => api.parseDescription(m, 'fuzz.env'), {
        expect: 'either',
        codes,
        check: (p) => envCheck(p.env),
      });
    }
  }
}

// ---------------------------------------------------------------- kastat dates, fields, queries

const pad = (v, w = 2) => String(v).padStart(w, '0');
const daysIn = (y, m) => new Date(Date.UTC(y, m, 0)).getUTCDate();

function statsSuite(rng, n, api, tally) {
  const S = 'kastat';
  const codes = ['KAPLOY_OPTION', 'KAPLOY_CONFLICTING_OPTIONS', 'KAPLOY_MISSING_OPTION', 'KAPLOY_NODE_LIST'];
  for (let i = 0; i < n; i++) {
    const y = rng.int(1971, 2099);
    const mo = rng.int(1, 12);
    const d = rng.int(1, daysIn(y, mo));
    const h = rng.int(0, 23);
    const mi = rng.int(0, 59);
    const s = rng.int(0, 59);
    const utc = Date.UTC(y, mo - 1, d, h, mi, s) / 1000;
    const off = rng.int(-12 * 60, 14 * 60);
    const offText = `${off < 0 ? '-' : '+'}${pad(Math.floor(Math.abs(off) / 60))}${rng.pick([':', ''])}${pad(Math.abs(off) % 60)}`;
    const forms = [
      [
        `${y}:${pad(mo)}:${pad(d)}:${pad(h)}:${pad(mi)}:${pad(s)}`,
        Math.floor(new Date(y, mo - 1, d, h, mi, s).getTime() / 1000),
      ],
      [`${y}-${pad(mo)}-${pad(d)}T${pad(h)}:${pad(mi)}:${pad(s)}Z`, utc],
      [`${y}-${pad(mo)}-${pad(d)} ${pad(h)}:${pad(mi)}:${pad(s)}.${rng.int(0, 999)}Z`, utc],
      [`${y}-${pad(mo)}-${pad(d)}T${pad(h)}:${pad(mi)}:${pad(s)}${offText}`, utc - off * 60],
      [`${y}-${pad(mo)}-${pad(d)}`, Math.floor(new Date(y, mo - 1, d).getTime() / 1000)],
      [String(utc), utc],
    ];
    const [text, expected] = rng.pick(forms);
    const kind = i % 5;
    if (kind === 0) {
      runCase(tally, api, `${S} date`, text, () => api.parseStatsDate(` ${text} `), {
        expect: 'accept',
        check: (v) => (v === expected ? undefined : `parsed as ${v}, expected ${expected}`),
      });
    } else if (kind === 1) {
      const bad = rng.pick([
        () => `${y}:02:30:00:00:00`,
        () => `${y}:13:01:00:00:00`,
        () => `${y}-${pad(mo)}-${pad(d)}T24:00:00Z`,
        () => `${y}-${pad(mo)}-${pad(d)}T${pad(h)}:60:00Z`,
        () => `${y}-${pad(mo)}-${pad(d)}T${pad(h)}:00:00+25:00`,
        () => `${y}-${pad(mo)}-${pad(d)}T${pad(h)}:00:00+03:99`,
        () => `${y}-${pad(mo)}-00`,
        () => '1'.repeat(13),
        () => insertHostileInside(rng, text),
        () => 'yesterday',
      ])();
      runCase(tally, api, `${S} date`, bad, () => api.parseStatsDate(bad), { expect: 'refuse', codes });
    } else if (kind === 2) {
      const m = mutateMany(rng, text);
      runCase(tally, api, `${S} date`, m, () => api.parseStatsDate(m), {
        expect: 'either',
        codes,
        check: (v) => (Number.isSafeInteger(v) ? undefined : `date ${v} is not a whole number of seconds`),
      });
    } else if (kind === 3) {
      const fields = rng.many(() => rng.pick(api.STATS_FIELDS), 1, 8);
      const spaced = fields.map((f) => rng.pick(['', ' ']) + f + rng.pick(['', ' ']));
      if (rng.chance(0.5)) {
        runCase(tally, api, `${S} fields`, spaced, () => api.parseFields(spaced), {
          expect: 'accept',
          check: (v) => (sameJson(v, fields) ? undefined : `fields ${JSON.stringify(v)}`),
        });
      } else {
        const bad = [...spaced];
        bad[rng.int(0, bad.length - 1)] = mutateMany(rng, rng.pick(api.STATS_FIELDS)) + rng.pick(HOSTILE);
        runCase(tally, api, `${S} fields`, bad, () => api.parseFields(bad), {
          expect: 'either',
          codes,
          check: (v) => (v.every((f) => api.STATS_FIELDS.includes(f)) ? undefined : `field accepted: ${v}`),
        });
      }
    } else {
      // A whole /stats query as it arrives (kastat3's flags or a query string), mutated.
      const raw = {};
      if (rng.chance(0.5))
        raw.kind = rng.pick(['list', 'last', 'retries', 'failure-rate', mutateMany(rng, 'list')]);
      if (rng.chance(0.5)) raw.fields = rng.many(() => rng.pick(api.STATS_FIELDS), 1, 4).join(',');
      if (rng.chance(0.5))
        raw.node = rng.chance(0.5) ? genNodeSpec(rng).text : [genNodeSpec(rng).text, bombSpec(rng)];
      if (rng.chance(0.4)) raw.from = text;
      if (rng.chance(0.3)) raw.to = rng.pick(forms)[0];
      if (rng.chance(0.3)) raw.min_retries = rng.pick(['0', '3', '-1', '1e3', '9999999999']);
      if (rng.chance(0.2)) raw.step = rng.pick(['1', '2', ['1', '3'], '4']);
      if (rng.chance(0.2)) raw.min_rate = rng.pick(['0', '50.5', '100', '101', 'NaN', '1e2']);
      if (rng.chance(0.3)) raw.limit = rng.pick(['1', '100', '0', '-1', '99999999999']);
      if (rng.chance(0.3)) raw.sort = rng.pick(['start', '-start', 'hostname,-wid', 'nope', 'start;drop']);
      if (rng.chance(0.2)) raw.wid = rng.pick(['D-1', 'a:b.c', '../x', "x'or'1"]);
      if (rng.chance(0.3)) {
        const k = rng.pick(Object.keys(raw).filter((x) => typeof raw[x] === 'string'));
        if (k) raw[k] = mutateMany(rng, raw[k]);
      }
      runCase(tally, api, `${S} query`, raw, () => api.parseStatsQuery(raw), {
        expect: 'either',
        codes,
        check: (q) =>
          q.fields.every((f) => api.STATS_FIELDS.includes(f)) &&
          q.nodes.every(validHost) &&
          q.nodes.length <= 100_000
            ? undefined
            : 'query accepted garbage',
      });
    }
  }
}

// ---------------------------------------------------------------- oarstat output

function oarstatSuite(rng, n, api, tally) {
  const S = 'oarstat';
  const codes = ['KAPLOY_EXECUTE'];
  for (let i = 0; i < n; i++) {
    const id = rng.int(1, 9_999_999);
    const nodes = rng.many((r) => `${label(r)}-${r.int(1, 99)}${domain(r)}`, 0, 12);
    const job = {
      Job_Id: id,
      owner: rng.pick(LOWER) + rng.chars(`${LOWER}${DIGITS}_-`, 0, 12),
      state: rng.pick(['Running', 'Waiting', 'Terminated', 'Error', 'Launching', 'toLaunch']),
      types: rng.many(() => rng.pick(['deploy', 'deploy=1', 'besteffort', 'idempotent', 'cosystem']), 0, 3),
      assigned_network_address: nodes.flatMap((x) => Array(rng.int(1, 2)).fill(x)),
      assigned_resources: rng.many((r) => r.int(1, 100000), 0, 20),
      events: rng.many(
        () => ({ type: rng.pick(['WALLTIME', 'FRAG_JOB_REQUEST', 'SWITCH_INTO_ERROR_STATE']), date: 1 }),
        0,
        3,
      ),
      name: lineText(rng),
      command: lineText(rng),
    };
    const text = JSON.stringify({ [String(id)]: job }, null, rng.pick([0, 1, 4]));
    const kind = i % 4;
    if (kind === 0) {
      runCase(tally, api, S, text, () => api.parseOarstatJson(text, id), {
        expect: 'accept',
        check: (j) =>
          j &&
          j.owner === job.owner &&
          j.state === job.state &&
          sameJson(j.nodes, [...new Set(job.assigned_network_address)]) &&
          sameJson(j.resources, job.assigned_resources) &&
          sameJson(j.types, job.types)
            ? undefined
            : `parsed as ${JSON.stringify(j).slice(0, 200)}`,
      });
    } else if (kind === 1) {
      // Hostile: one field replaced by a value of the wrong kind or a forged one.
      const key = rng.pick([
        'owner',
        'state',
        'types',
        'assigned_network_address',
        'assigned_resources',
        'Job_Id',
      ]);
      const forged = rng.pick([
        null,
        42,
        -1,
        1.5,
        'x; rm -rf /',
        ['a b'],
        [null],
        [{}],
        { a: 1 },
        '',
        '../../etc',
        ['node-1;id'],
        [0],
        [2 ** 60],
      ]);
      const broken = { ...job, [key]: forged };
      const t = JSON.stringify({ [String(id)]: broken });
      // Some forgeries are still a valid value for some keys
      // (types: ['a b'] is a list of strings), and a null list of assigned hosts or resources is none.
      const stillValid =
        (key === 'types' && Array.isArray(forged) && forged.every((x) => typeof x === 'string')) ||
        (key.startsWith('assigned_') && forged === null);
      runCase(tally, api, S, t, () => api.parseOarstatJson(t, id), {
        expect: stillValid ? 'either' : 'refuse',
        codes,
        check: () => undefined,
      });
    } else {
      const m = rng.chance(0.2) ? `${'['.repeat(rng.pick([10, 10_000, 200_000]))}` : mutateMany(rng, text);
      runCase(tally, api, S, m, () => api.parseOarstatJson(m, id), {
        expect: 'either',
        codes,
        check: (j) =>
          j === undefined ||
          (/^[a-z_][a-z0-9_-]*$/i.test(j.owner) &&
            j.nodes.every(validHost) &&
            j.resources.every((r) => Number.isSafeInteger(r) && r > 0))
            ? undefined
            : `accepted job ${JSON.stringify(j).slice(0, 200)}`,
      });
    }
  }
}

// ---------------------------------------------------------------- image and postinstall archives

/** A minimal ustar archive holding one file (512-byte header, data, two zero blocks). */
function tarOf(name, data) {
  const h = Buffer.alloc(512);
  h.write(name.slice(0, 99), 0, 'latin1');
  h.write('0000644\0', 100);
  h.write('0000000\0', 108);
  h.write('0000000\0', 116);
  h.write(`${data.length.toString(8).padStart(11, '0')}\0`, 124);
  h.write('00000000000\0', 136);
  h.write('        ', 148);
  h.write('0', 156);
  h.write('ustar\0', 257);
  h.write('00', 263);
  let sum = 0;
  for (const b of h) sum += b;
  h.write(`${sum.toString(8).padStart(6, '0')}\0 `, 148);
  const body = Buffer.alloc(Math.ceil(data.length / 512) * 512);
  data.copy(body);
  return Buffer.concat([h, body, Buffer.alloc(1024)]);
}

function ext4Image(size) {
  const b = Buffer.alloc(size);
  b.writeUInt16LE(0xef53, 1080);
  return b;
}

/**
 * Images and archives as the engine checks them before sending them (checkImageContent): a valid
 * tar or dd image is accepted; an empty, truncated, corrupt or mislabelled one gets a problem
 * string; nothing throws. Async: spawns the decompressor. `dir` is created and removed here.
 */
export async function archiveSuite(rng, n, api, tally, signal) {
  const S = 'archives';
  const dir = mkdtempSync(path.join(os.tmpdir(), 'kaploy-fuzz-archives-'));
  try {
    for (let i = 0; i < n && !signal?.aborted; i++) {
      const data = Buffer.from(rng.chars(ALNUM, 0, 2000));
      const tar = tarOf(`etc/${word(rng)}`, data);
      const dd = ext4Image(rng.int(2048, 8192));
      const kind = i % 4;
      let bytes;
      let spec;
      let expectProblem;
      if (kind === 0) {
        spec = rng.pick(['tar', 'dd']);
        bytes = gzipSync(spec === 'tar' ? tar : dd);
        expectProblem = false;
      } else if (kind === 1) {
        spec = rng.pick(['tar', 'dd']);
        const other = spec === 'tar' ? dd : tar;
        bytes = rng.pick([
          () => gzipSync(other), // mislabelled
          () => gzipSync(Buffer.alloc(0)), // empty
          () => gzipSync(spec === 'tar' ? tar : dd).subarray(0, rng.int(1, 30)), // truncated
          () => Buffer.from(rng.chars(ALNUM, 1, 4000)), // not gzip at all
          () => Buffer.alloc(0),
        ])();
        expectProblem = true;
      } else {
        spec = rng.pick(['tar', 'dd']);
        const good = gzipSync(spec === 'tar' ? tar : dd);
        bytes = Buffer.from(good);
        for (let k = rng.int(1, 6); k > 0; k--) bytes[rng.int(0, bytes.length - 1)] = rng.int(0, 255);
        expectProblem = undefined; // a flipped byte may land in a field gzip does not check
      }
      const file = path.join(dir, `img-${i}`);
      writeFileSync(file, bytes);
      const md5 = createHash('md5').update(bytes).digest('hex');
      await runCaseAsync(
        tally,
        api,
        S,
        `${spec} image, ${bytes.length} bytes, case ${kind}`,
        () =>
          api.checkImageContent(
            { path: file, kind: spec, compression: 'gzip', md5 },
            signal ?? AbortSignal.timeout(60_000),
          ),
        {
          expect: 'accept',
          check: (problem) => {
            if (problem !== undefined && typeof problem !== 'string') return 'not a problem string';
            if (expectProblem === true && problem === undefined) return 'a bad image was accepted';
            if (expectProblem === false && problem !== undefined)
              return `a good image was refused: ${problem}`;
            return undefined;
          },
        },
      );
      rmSync(file, { force: true });
    }
  } finally {
    rmSync(dir, { recursive: true, force: true });
  }
}

/** Runs a shell line with `stdin` as its input; resolves with its exit status and stderr. */
function shell(line, stdin, signal) {
  return new Promise((resolve, reject) => {
    const child = spawn('sh', ['-c', line], { stdio: ['pipe', 'ignore', 'pipe'], signal });
    let stderr = '';
    child.stderr.on('data', (d) => {
      if (stderr.length < 2000) stderr += d;
    });
    child.stdin.on('error', () => {}); // the extraction may stop reading a bad archive early
    child.stdin.end(stdin);
    child.on('error', reject);
    child.on('close', (code) => resolve({ code, stderr }));
  });
}

/**
 * Postinstall archives as a node runs them (nodeCommands.runPostinstall: extract into the work
 * directory, then run the script with the KADEPLOY_* variables), in a real shell with a real
 * archive: hostile variable values (kernel parameters and descriptions are user text) reach the
 * script byte for byte and never run; a corrupt, truncated or foreign archive fails the step.
 */
export async function postinstallSuite(rng, n, api, tally, signal) {
  const S = 'postinstall archives';
  const dir = mkdtempSync(path.join(os.tmpdir(), 'kaploy-fuzz-postinstall-'));
  const safe = HOSTILE.filter((h) => !h.includes('\0'));
  const hostileValue = () =>
    rng.many(() => (rng.chance(0.6) ? rng.pick(safe) : rng.chars(ALNUM, 0, 6)), 1, 6).join('');
  try {
    for (let i = 0; i < n && !signal?.aborted; i++) {
      const work = path.join(dir, `w${i}`);
      const out = path.join(dir, `out${i}`);
      const vars = {
        KADEPLOY_ENV_KERNEL_PARAMS: hostileValue(),
        KADEPLOY_ENV: hostileValue(),
        KADEPLOY_USER: 'alice',
      };
      const script = `printf '%s\\0' "$KADEPLOY_ENV_KERNEL_PARAMS" "$KADEPLOY_ENV" "$(cat probe.txt)" > ${out}`;
      const probe = rng.chars(ALNUM, 1, 40);
      const good = gzipSync(tarOf('probe.txt', Buffer.from(probe)));
      const kind = i % 3;
      let archive = good;
      if (kind === 1) {
        archive = rng.pick([
          () => good.subarray(0, rng.int(0, 40)),
          () => Buffer.from(rng.chars(ALNUM, 1, 500)),
          () => gzipSync(Buffer.from(rng.chars(ALNUM, 1, 500))),
          () => Buffer.alloc(0),
        ])();
      }
      const line = api.runPostinstall('gzip', work, script, vars);
      const input = `${kind === 1 ? 'corrupt' : 'valid'} archive, vars ${JSON.stringify(vars)}`;
      await runCaseAsync(
        tally,
        api,
        S,
        input,
        () => shell(line, archive, signal ?? AbortSignal.timeout(60_000)),
        {
          expect: 'accept',
          check: ({ code, stderr }) => {
            if (kind === 1) return code === 0 ? 'a corrupt archive was run as a success' : undefined;
            if (code !== 0) return `exit ${code}: ${stderr.slice(0, 200)}`;
            const got = readFileSync(out, 'utf8').split('\0').slice(0, 3);
            const want = [vars.KADEPLOY_ENV_KERNEL_PARAMS, vars.KADEPLOY_ENV, probe].map((v) =>
              Buffer.from(v, 'utf8').toString('utf8'),
            );
            return sameJson(got, want) ? undefined : `the script got ${JSON.stringify(got)}`;
          },
        },
      );
      rmSync(work, { recursive: true, force: true });
      rmSync(out, { force: true });
    }
  } finally {
    rmSync(dir, { recursive: true, force: true });
  }
}

/** Every synchronous parser suite, by name, for the scenario and the tests. */
export const PARSER_SUITES = {
  'node names': nodeNamesSuite,
  'node files': nodeFileSuite,
  '--force-steps': forceStepsSuite,
  breakpoints: breakpointSuite,
  descriptions: descriptionSuite,
  kastat: statsSuite,
  oarstat: oarstatSuite,
};
