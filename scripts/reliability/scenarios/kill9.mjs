// kill -9 of the engine at a random point of a deployment, a reboot, an OAR production restore,
// an environment add (kaenv3 -a with a local image, uploaded) and a raw image upload, then the
// engine started again on the same store (as `kaploy testbed up` starts it). A run passes when
// the operation ends after the restart (a deployment, reboot or restore resumes and succeeds: the
// client following it exits 0 and the nodes are installed or back in production), and nothing
// acknowledged before the kill is missing after it: an operation whose id the client was given,
// the statistics rows of an operation that had finished, an environment kaenv3 reported added,
// an upload answered 201. `.tmp-*` files left in the engine's store after the restart fail the run.
import { createHash, randomBytes } from 'node:crypto';
import { existsSync, mkdtempSync, readdirSync, readFileSync, rmSync, writeFileSync } from 'node:fs';
import os from 'node:os';
import path from 'node:path';
import { Readable } from 'node:stream';
import { setTimeout as sleep } from 'node:timers/promises';
import { request } from 'undici';
import { EXIT_CODES, installedWith, settle } from '../lib/checks.mjs';
import { waitFinal, withSite } from '../lib/site.mjs';

const KINDS = ['deploy', 'reboot', 'restore', 'env-add', 'upload'];
/** The window the kill is drawn in, ms after the operation started: about its length on this site. */
const WINDOW = { deploy: 6000, reboot: 2500, restore: 6000, 'env-add': 1500, upload: 1500 };

function debris(dir) {
  const out = [];
  const walk = (d) => {
    for (const e of readdirSync(d, { withFileTypes: true })) {
      const p = path.join(d, e.name);
      if (e.isDirectory()) walk(p);
      else if (e.name.startsWith('.tmp-')) out.push(p);
    }
  };
  if (existsSync(dir)) walk(dir);
  return out;
}

async function statsRows(site, wid) {
  const res = await request(`${site.url}/stats?wid=${encodeURIComponent(wid)}`, {
    headers: { authorization: `Bearer ${site.token('kaadmin')}` },
  });
  const text = await res.body.text();
  if (res.statusCode !== 200) throw new Error(`GET /stats?wid=${wid}: ${res.statusCode} ${text}`);
  return text.split('\n').filter(Boolean).length;
}

/** Waits until `file` holds a workflow id (the client writes it once the engine acknowledged). */
async function widFrom(file, child, signal) {
  for (;;) {
    if (existsSync(file)) {
      const w = readFileSync(file, 'utf8').trim();
      if (w) return w;
    }
    if (child.done) return undefined;
    await sleep(20, undefined, { signal });
  }
}

const track = (p) => {
  const t = { done: false, result: undefined };
  t.promise = p.then((r) => {
    t.done = true;
    t.result = r;
    return r;
  });
  return t;
};

/** One run: starts `kind`, kills the engine `delay` ms later, restarts it and judges the outcome. */
async function oneRun(site, kind, i, delay, signal, log) {
  const v = { passed: false, dataLost: 0, internal: 0, why: '' };
  const nodes = site.nodes.slice((i % 2) * 3, (i % 2) * 3 + 3);
  const widFile = path.join(site.dir, `wid-${i}`);
  let child;
  let acked;
  let wid;
  const t0 = Date.now();
  if (kind === 'deploy' || kind === 'reboot') {
    const args =
      kind === 'deploy'
        ? ['-e', 'tiny-x64-base', '-u', 'deploy', ...nodes.flatMap((n) => ['-m', n])]
        : ['-r', 'simple', ...nodes.flatMap((n) => ['-m', n])];
    child = track(
      site.run(kind === 'deploy' ? 'kadeploy3' : 'kareboot3', [...args, '--write-workflow-id', widFile]),
    );
    wid = await widFrom(widFile, child, signal);
  } else if (kind === 'restore') {
    const admin = site.client('kaadmin');
    const job = 1000 + i;
    await admin.request('POST', '/restores', { body: { job, user: 'deploy', nodes } });
    await admin.close();
    acked = job;
  } else if (kind === 'env-add') {
    // A copy of the tiny image with random bytes after it: a new checksum, so kaenv3 uploads it.
    const image = path.join(site.dir, `image-${i}.tgz`);
    writeFileSync(
      image,
      Buffer.concat([
        readFileSync(path.join(site.dir, 'images', 'tiny-x64-base-1.0.tgz')),
        randomBytes(4 << 20),
      ]),
    );
    const desc = readFileSync(path.join(site.dir, 'envs', 'tiny-x64-base.yaml'), 'utf8')
      .replace(/^name: .*$/m, `name: rel-env-${i}`)
      .replace(/^visibility: .*$/m, 'visibility: private')
      .replace(/^(\s*file:\s*).*tiny-x64-base-1\.0\.tgz.*$/m, `$1${image}`);
    const descFile = path.join(site.dir, `env-${i}.yaml`);
    writeFileSync(descFile, desc);
    child = track(site.run('kaenv3', ['-a', descFile]));
  } else {
    const bytes = randomBytes(8 << 20);
    const md5 = createHash('md5').update(bytes).digest('hex');
    const c = site.client();
    child = track(
      c.upload(`/files/${md5}`, Readable.from([bytes])).then(
        (r) => ({ code: 0, md5, r }),
        (e) => ({ code: -1, md5, e }),
      ),
    );
    child.promise.finally(() => c.close());
    child.md5 = md5;
  }
  const wait = Math.max(0, delay - (Date.now() - t0));
  await sleep(wait, undefined, { signal });
  const finishedBefore = child?.done === true;
  const before = finishedBefore ? child.result : undefined;
  await site.kill9();
  await site.restart();
  const after = child ? await child.promise : undefined;
  const where = `${kind} #${i} killed at ${delay} ms${finishedBefore ? ' (after it ended)' : ''}`;
  if (after && kind !== 'upload' && !EXIT_CODES.has(after.code)) {
    v.internal++;
    v.why = `${where}: exit ${after.code} is not in the README's table`;
    log(`${v.why}\n${after.stdout}${after.stderr}`);
  }
  if (kind === 'deploy' || kind === 'reboot') {
    if (!wid) {
      v.why ||= `${where}: no workflow id (exit ${after.code}): ${after.stderr.trim().split('\n').pop()}`;
      log(`${where}: ${after.stdout}${after.stderr}`);
      return v;
    }
    const c = site.client();
    let st;
    try {
      st = await c
        .request('GET', `/${kind === 'deploy' ? 'deployment' : 'reboot'}/${wid}`)
        .catch(() => undefined);
      if (st) st = await waitFinal(c, kind, wid, { signal, ms: 120_000 });
    } finally {
      await c.close();
    }
    if (!st) {
      v.dataLost++;
      v.why = `${where}: ${wid} acknowledged, missing after the restart`;
      return v;
    }
    if (st.status === 'done' && (await statsRows(site, wid)) < nodes.length) {
      v.dataLost++;
      v.why = `${where}: ${wid} done without its statistics rows`;
      return v;
    }
    const statuses = await site.status();
    const wantState =
      kind === 'deploy' ? (n) => installedWith(site, statuses, n, 'tiny-x64-base') : () => true;
    const bad = nodes.filter((n) => !wantState(n));
    if (after.code === 0 && st.status === 'done' && bad.length === 0) v.passed = true;
    else {
      v.why ||= `${where}: exit ${after.code}, ${st.status}, not installed: ${bad.join(' ')}`;
      log(`${v.why}\n${after.stdout}${after.stderr}`);
    }
  } else if (kind === 'restore') {
    const admin = site.client('kaadmin');
    let rows = [];
    try {
      const end = Date.now() + 120_000;
      for (;;) {
        rows = (await admin.request('GET', `/restores?job=${acked}`)).restores;
        if (rows.length === 0 || rows.every((r) => ['done', 'failed', 'superseded'].includes(r.state))) break;
        if (Date.now() > end) break;
        await sleep(250, undefined, { signal });
      }
    } finally {
      await admin.close();
    }
    if (rows.length !== nodes.length) {
      v.dataLost += nodes.length - rows.length;
      v.why = `${where}: ${rows.length}/${nodes.length} restore rows after the restart`;
      return v;
    }
    const statuses = await site.status();
    const back = nodes.filter((n) => statuses.find((s) => s.name === n)?.state === 'production');
    if (rows.every((r) => r.state === 'done') && back.length === nodes.length) v.passed = true;
    else
      v.why = `${where}: restores ${rows.map((r) => r.state).join(',')}, ${back.length} nodes in production`;
  } else if (kind === 'env-add') {
    const r = await site.run('kaenv3', ['-l', `rel-env-${i}`]);
    const present = r.code === 0 && r.stdout.includes(`rel-env-${i}`);
    if (before?.code === 0 && !present) {
      v.dataLost++;
      v.why = `${where}: added before the kill, missing after`;
    } else if (after.code === 0 && !present) {
      v.dataLost++;
      v.why = `${where}: kaenv3 exited 0, the environment is missing`;
    } else if (after.code !== 0 && after.code !== 5) {
      // Refused or failed for another reason than the engine going away: not what is tested.
      v.why = `${where}: kaenv3 exit ${after.code}: ${after.stderr.trim().split('\n').pop()}`;
    } else v.passed = true;
    log(`${where}: kaenv3 exit ${after.code}, listed after the restart: ${present}`);
  } else {
    const c = site.client();
    const { present } = await c.request('GET', `/files/${child.md5}`);
    await c.close();
    if (after.code === 0 && !present) {
      v.dataLost++;
      v.why = `${where}: upload answered 201, missing after the restart`;
    } else v.passed = true;
    log(
      `${where}: upload ${after.code === 0 ? 'acknowledged' : `failed (${after.e?.message})`}, present after: ${present}`,
    );
  }
  const left = debris(path.join(site.dir, 'engine'));
  if (left.length > 0) {
    v.passed = false;
    v.why = `${where}: ${left.length} .tmp-* files left in the store after the restart`;
  }
  return v;
}

export default {
  name: 'kill9',
  async run({ short, signal, log }) {
    const perKind = short ? 1 : 5;
    // The virtual site has no OAR: the restore worker puts nodes back in service with `true`
    // (the engine reads this file at each start; the site's processes inherit the variable).
    const hooksDir = mkdtempSync(path.join(os.tmpdir(), 'kaploy-rel-hooks-'));
    const hooks = path.join(hooksDir, 'hooks.yaml');
    writeFileSync(path.join(hooksDir, 'token'), 'unused\n', { mode: 0o600 });
    writeFileSync(
      hooks,
      [
        'engine_url: http://127.0.0.1:9',
        `admin_token_file: ${path.join(hooksDir, 'token')}`,
        'restore:',
        '  retry_delay_seconds: 1',
        "  alive_command: ['/bin/true', '{node}']",
        "  hold_commands: [['/bin/true', '{node}', '{reason}']]",
        '',
      ].join('\n'),
    );
    const saved = process.env.KAPLOY_OAR_HOOKS_CONFIG;
    process.env.KAPLOY_OAR_HOOKS_CONFIG = hooks;
    try {
      return await runAll(perKind, signal, log);
    } finally {
      if (saved === undefined) delete process.env.KAPLOY_OAR_HOOKS_CONFIG;
      else process.env.KAPLOY_OAR_HOOKS_CONFIG = saved;
      rmSync(hooksDir, { recursive: true, force: true });
    }
  },
};

function runAll(perKind, signal, log) {
  return withSite({ nodes: 6, site: 'relkill', signal }, async (site) => {
    let runs = 0;
    let passed = 0;
    let dataLost = 0;
    let internal = 0;
    const why = [];
    for (let r = 0; r < perKind; r++) {
      for (const kind of KINDS) {
        const i = runs++;
        const delay = Math.floor(Math.random() * WINDOW[kind]);
        const v = await oneRun(site, kind, i, delay, signal, log);
        if (v.passed) passed++;
        else why.push(v.why);
        dataLost += v.dataLost;
        internal += v.internal;
        log(`${kind} #${i} killed at ${delay} ms: ${v.passed ? 'passed' : `FAILED ${v.why}`}`);
      }
    }
    const stuck = await settle(site, { signal });
    return {
      runs,
      passed,
      dataLost,
      stuckNodes: stuck.length,
      internalErrors: internal + site.internalErrors(),
      enginePeakMiB: site.sample(),
      notes: why.length ? why.slice(0, 2).join('; ') : `${perKind} kill(s) per kind: ${KINDS.join(', ')}`,
    };
  });
}
