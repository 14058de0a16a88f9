import type { ValidatorOptions } from '../common/config/ajv-instance.js';
import type { ConfigSchema } from '../common/config/schema-types.js';
import { OARGRID_SCHEMA } from './oargrid/oargrid-config-schema.js';

/** The client configuration file (`$KAPLOY_CLIENT_CONFIG` or `~/.kaploy/client.yaml`), as a JSON Schema. */
/** How the client configuration's validator is built; coerced: a server named 5 is `default: 5` in YAML. */
export const CLIENT_VALIDATOR: ValidatorOptions = { coerceTypes: true, precompiled: 'client-config' };

export const CLIENT_SCHEMA: ConfigSchema = {
  type: 'object',
  // servers is required unless the file only serves the oargrid commands (loadClientConfig checks).
  additionalProperties: false,
  message: { type: 'expected a mapping' },
  properties: {
    default: {
      type: 'string',
      defaultText: 'the first server listed',
      description: 'The server used without -S NAME.',
    },
    servers: {
      type: 'object',
      minProperties: 1,
      defaultText: 'required, unless the file has only an `oargrid` section (for the oargrid commands)',
      description: 'The sites’ engines, by the name -S takes.',
      message: { type: 'expected a mapping of server names', minProperties: 'expected at least one server' },
      additionalProperties: {
        type: 'object',
        required: ['url'],
        additionalProperties: false,
        description: 'One server.',
        message: {
          type: 'expected a mapping with url (and token_file)',
          required: 'expected an http(s) URL',
        },
        properties: {
          url: {
            type: 'string',
            pattern: '^https?://',
            description: 'The engine (http://HOST:PORT).',
            message: {
              type: 'expected an http(s) URL',
              pattern: 'expected an http(s) URL',
              required: 'expected an http(s) URL',
            },
          },
          ca: {
            type: 'string',
            minLength: 1,
            description:
              'PEM file of the CA that signed an https engine’s certificate, or that certificate itself (pinned), relative to this file or `~/`. Absent: the system’s CAs.',
          },
          token_file: {
            type: 'string',
            minLength: 1,
            defaultText: '`~/.kaploy/tokens/NAME`',
            description:
              'The caller’s token (mode 600), relative to this file or `~/`; $KAPLOY_TOKEN_FILE overrides it.',
          },
        },
      },
    },
    server_timeout: {
      type: 'integer',
      minimum: 1,
      maximum: 3600,
      defaultText: '30',
      description:
        'Seconds an engine may stay silent on one request before it counts as lost: its command fails (exit 5), and with -M its nodes are KO (Server-lost) while the other sites finish. Also how long a command following an operation asks again an engine it cannot reach (restarting) before it gives up.',
      message: 'expected a whole number of seconds between {minimum} and {maximum}',
    },
    progress: {
      type: 'boolean',
      defaultText: 'true',
      description:
        'The live progress line on a terminal (stderr). Never shown when stderr is not a terminal or TERM is unset or `dumb`; `false` (or $KAPLOY_PROGRESS=0) switches it off on terminals too, for tools that run the commands through `ssh -tt`.',
      message: 'expected true or false',
    },
    exit_codes: {
      type: 'string',
      enum: ['kaploy', 'kadeploy'],
      defaultText: '`kaploy`',
      description:
        'kadeploy3, kareboot3 and kapower3 exit 1 (some nodes KO) or 2 (none OK) with `kaploy`; with `kadeploy` (or $KAPLOY_EXIT_CODES=kadeploy) they exit 0 once the operation ran, as Kadeploy does, for tools that read 0 as "ran". Errors (3, 4, 5, 130) are unchanged.',
      message: 'expected kaploy or kadeploy',
    },
    oargrid: OARGRID_SCHEMA,
  },
};
