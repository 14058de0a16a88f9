import type { EnvironmentRef } from '../../api/deploy-request.js';
import { prepareDescription } from '../environments/environments.js';
import type { ApiClient } from '../http-client.js';
import { type GridDescription, loadDescription } from './load-description.js';
import type { DeployRunOptions, RunEnvironment } from './run-options.js';

/** What one site is asked to deploy: the description was read once for every site. */
export type SiteEnvironment =
  | Extract<RunEnvironment, { kind: 'recorded' }>
  | { kind: 'description'; description: GridDescription };

/** `-a FILE|URL` is read and parsed once, here, so its mistakes and warnings are reported once. */
export async function environmentOnce(o: DeployRunOptions, signal: AbortSignal): Promise<SiteEnvironment> {
  if (o.environment.kind === 'recorded') return o.environment;
  const description = await loadDescription(o.environment.file, o.environment.cwd, signal);
  for (const w of description.warnings) o.warn?.(w);
  return { kind: 'description', description };
}

/** The environment as one site's request names it, the description's local files uploaded to it. */
export async function siteEnvironment(
  client: ApiClient,
  env: SiteEnvironment,
  signal: AbortSignal,
): Promise<EnvironmentRef> {
  if (env.kind === 'recorded') {
    const { kind: _k, ...ref } = env;
    return { kind: 'recorded', ...ref };
  }
  // -a FILE|URL: the description's local files are uploaded to this site; its http(s) files are
  // fetched and checked by this site's engine when the deployment starts (once: it caches them).
  const d = env.description;
  const source = await prepareDescription(client, { file: d.file, text: d.text, cwd: d.cwd, signal });
  return { kind: 'anonymous', ...source };
}
