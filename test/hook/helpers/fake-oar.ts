import { appendFileSync, chmodSync, existsSync, readFileSync, writeFileSync } from 'node:fs';
import path from 'node:path';
import { fileURLToPath } from 'node:url';

const FIXTURES = path.join(path.dirname(fileURLToPath(import.meta.url)), '..', 'fixtures');

/** Recorded real OAR 2.5.9 output (see fixtures/README.md). */
export function fixture(name: string): string {
  return readFileSync(path.join(FIXTURES, name), 'utf8');
}

/**
 * A recorded `oarstat -J -f -j ID` document rewritten for another job: id, owner, types, hosts,
 * state (the recorded layout and every other field kept).
 */
export function oarstatJson(opts: {
  job: number;
  owner?: string;
  types?: string[];
  nodes?: string[];
  state?: string;
  base?: string;
}): string {
  const doc = JSON.parse(fixture(opts.base ?? 'oarstat-deploy-finishing.json')) as Record<
    string,
    Record<string, unknown>
  >;
  const entry = Object.values(doc)[0] as Record<string, unknown>;
  entry.Job_Id = opts.job;
  if (opts.owner !== undefined) entry.owner = opts.owner;
  if (opts.types !== undefined) entry.types = opts.types;
  if (opts.nodes !== undefined) {
    entry.assigned_network_address = opts.nodes;
    entry.assigned_resources = opts.nodes.map((_, i) => i + 1);
  }
  if (opts.state !== undefined) entry.state = opts.state;
  return JSON.stringify({ [String(opts.job)]: entry }, null, 3);
}

/**
 * Real executables standing in for oarstat and oarnodesetting (fast tier only): each prints the
 * content of DIR/NAME.out, exits with DIR/NAME.rc (default 0), sleeps DIR/NAME.sleep seconds
 * first if present, and appends its arguments (one line per call) to DIR/NAME.calls.
 */
export interface FakeOar {
  dir: string;
  oarstat: string;
  oarnodesetting: string;
  set(
    name: 'oarstat' | 'oarnodesetting',
    out: { stdout?: string; stderr?: string; rc?: number; sleep?: number },
  ): void;
  calls(name: 'oarstat' | 'oarnodesetting'): string[][];
}

export function makeFakeOar(dir: string): FakeOar {
  const make = (name: string) => {
    const f = path.join(dir, name);
    writeFileSync(
      f,
      `#!/bin/sh
d='${dir}'
printf '%s\\n' "$*" >> "$d/${name}.calls"
[ -f "$d/${name}.sleep" ] && sleep "$(cat "$d/${name}.sleep")"
[ -f "$d/${name}.out" ] && cat "$d/${name}.out"
[ -f "$d/${name}.err" ] && cat "$d/${name}.err" >&2
[ -f "$d/${name}.rc" ] && exit "$(cat "$d/${name}.rc")"
exit 0
`,
    );
    chmodSync(f, 0o755);
    return f;
  };
  const fake: FakeOar = {
    dir,
    oarstat: make('oarstat'),
    oarnodesetting: make('oarnodesetting'),
    set(name, out) {
      writeFileSync(path.join(dir, `${name}.out`), out.stdout ?? '');
      writeFileSync(path.join(dir, `${name}.err`), out.stderr ?? '');
      writeFileSync(path.join(dir, `${name}.rc`), String(out.rc ?? 0));
      if (out.sleep !== undefined) writeFileSync(path.join(dir, `${name}.sleep`), String(out.sleep));
      else if (existsSync(path.join(dir, `${name}.sleep`)))
        writeFileSync(path.join(dir, `${name}.sleep`), '0');
    },
    calls(name) {
      const f = path.join(dir, `${name}.calls`);
      if (!existsSync(f)) return [];
      return readFileSync(f, 'utf8')
        .split('\n')
        .filter((l) => l !== '')
        .map((l) => l.split(' '));
    },
  };
  appendFileSync(path.join(dir, 'oarnodesetting.out'), '');
  return fake;
}
