import { CLIENT_SCHEMA } from '../client/client-config-schema.js';
import { renderReference } from '../common/config/reference.js';
import { HOOKS_SCHEMA } from '../common/hooks-config-schema.js';
import { SITE_SCHEMA } from '../common/site-config-schema.js';
import { DESCRIPTION_SCHEMA } from '../formats/environment/description-schema.js';

/** The text of docs/configuration.md (written and checked by scripts/config-ref.mjs). */
export function configurationReference(): string {
  return renderReference(PREAMBLE, [
    {
      title: 'Site configuration',
      intro: `\`kaploy server --config FILE\` (loaded by \`src/common/site-config.ts\`). Unknown keys are refused,
with the nearest known key suggested. Relative paths are relative to the file. Numbers may be
written as text. Cross-field rules: a cluster's partitions are all different, its automata parses
(docs/workflow.md), a node is declared once, a cluster name once, a command is \`argv\` or \`http\`
(not both), node names and addresses expand to as many.`,
      schema: SITE_SCHEMA,
    },
    {
      title: 'OAR hooks configuration',
      intro: `\`/etc/kaploy/oar-hooks.yaml\` or \`$KAPLOY_OAR_HOOKS_CONFIG\` (loaded by \`src/common/hooks-config.ts\`;
docs/oar.md). Unknown keys are refused. Commands are argument vectors whose program is an absolute
path and that contain \`{node}\`. Cross-field rules: \`request_timeout_seconds\` and
\`command_timeout_seconds\` below \`deadline_seconds\`; with \`restore.alive_batch\` above 1,
\`{node}\` is a word of its own in \`restore.alive_command\`.`,
      schema: HOOKS_SCHEMA,
    },
    {
      title: 'Client configuration',
      intro: `\`$KAPLOY_CLIENT_CONFIG\`, else \`~/.kaploy/client.yaml\`, else the site-wide \`/etc/kaploy/client.yaml\`, read by every command (\`src/client/client-config.ts\`).
Unknown keys are refused. \`-S NAME\` picks a server; \`default\` must be one of \`servers\`.`,
      schema: CLIENT_SCHEMA,
    },
    {
      title: 'Environment descriptions',
      intro: `The YAML 3.x format (\`kaenv3 -a FILE\`, \`kadeploy3 -a FILE\`; \`src/formats/environment\`). The
Kadeploy 3.1 key/value format maps onto the same keys (\`tarball\` -> \`image\`, \`postinstall\` ->
\`postinstalls\`, \`fdisktype\` -> \`partition_type\`, \`environment_kind\` -> \`os\`,
\`demolishing_env\` -> \`destructive\`). Unknown keys are warned about ("Unused field"), not
refused, as in Kadeploy; a key without a value is a key not given. Cross-field rules: a tar image
of a linux or xen system needs \`boot.kernel\` and \`filesystem\`; xen needs \`boot.hypervisor\`.`,
      schema: DESCRIPTION_SCHEMA,
    },
  ]);
}

const PREAMBLE = `# Configuration reference

Generated from the JSON Schemas the files are checked against (\`npm run config-ref\`; CI runs
\`npm run config-ref -- --check\`): do not edit by hand. Every file goes through one pipeline
(\`src/common/config\`): read -> YAML (with lines) -> unknown keys -> schema (types, ranges,
defaults) -> normalise -> cross-field rules. Each problem names the file, the key
(\`clusters[0].nodes[1].address\`) and, when the YAML parser gives it, the line.`;
