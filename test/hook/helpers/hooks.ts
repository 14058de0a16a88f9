import { writeFileSync } from 'node:fs';
import path from 'node:path';
import { stringify } from 'yaml';
import { Deadline } from '../../../src/hook/deadline.js';
import type { HookDeps } from '../../../src/hook/hook-deps.js';
import { loadHookSetup } from '../../../src/hook/hook-deps.js';
import { hookLogger } from '../../../src/hook/hook-log.js';
import type { FakeOar } from './fake-oar.js';

/** Writes a hooks configuration pointing at the fake OAR commands; returns its path. */
let written = 0;

export function writeHooksConfig(
  dir: string,
  o: { engineUrl: string; tokenFile: string; fake: FakeOar; extra?: Record<string, unknown> },
): string {
  const f = path.join(dir, `oar-hooks-${++written}.yaml`);
  writeFileSync(
    f,
    stringify({
      engine_url: o.engineUrl,
      admin_token_file: o.tokenFile,
      partitions: ['/dev/sda3'],
      production_env: 'prod-env',
      deadline_seconds: 20,
      request_timeout_seconds: 3,
      grant_retry_seconds: 1,
      command_timeout_seconds: 5,
      spool_dir: path.join(dir, 'spool'),
      oarstat: o.fake.oarstat,
      oarnodesetting: o.fake.oarnodesetting,
      ...o.extra,
    }),
  );
  return f;
}

/** What a hook run needs, as hook-main builds it, with the log lines captured. */
export function hookDeps(
  configFile: string,
  hook = 'server_epilogue',
  job = 1,
): { deps: HookDeps; lines: string[] } {
  const lines: string[] = [];
  const log = hookLogger(hook, job, (l) => lines.push(l.replace(/^\[kaploy\] \[[^\]]+\] /, '').trimEnd()));
  const { config, engine } = loadHookSetup(configFile, log);
  return { deps: { config, engine, log, deadline: new Deadline(config.deadlineMs), now: Date.now }, lines };
}
