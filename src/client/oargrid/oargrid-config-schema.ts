import type { ConfigSchema } from '../../common/config/schema-types.js';

/** The names oargridsub's description and OAR's SQL (`cluster='NAME'`) accept: no quote, no space. */
const ALIAS_PATTERN = '^[A-Za-z0-9][A-Za-z0-9_-]{0,62}$';

/** `local`, or `ssh [USER@]HOST` (never starting with `-`: it reaches ssh's command line). */
const ACCESS_PATTERN = '^(local|ssh ([A-Za-z0-9_][A-Za-z0-9_.-]{0,31}@)?[A-Za-z0-9][A-Za-z0-9.-]{0,252})$';

/** The `oargrid:` section of the client configuration: which OAR each alias of oargridsub reaches. */
export const OARGRID_SCHEMA: ConfigSchema = {
  type: 'object',
  required: ['aliases'],
  additionalProperties: false,
  description:
    'oargridsub, oargridstat and oargriddel: the sites and clusters a grid reservation names (docs/grid.md).',
  message: { type: 'expected a mapping with aliases', required: 'expected aliases' },
  properties: {
    aliases: {
      type: 'object',
      minProperties: 1,
      description:
        'The names oargridsub descriptions use (`ALIAS:rdef="nodes=N"`), each a cluster of a site.',
      message: { type: 'expected a mapping of aliases', minProperties: 'expected at least one alias' },
      additionalProperties: {
        type: 'object',
        required: ['site', 'access'],
        additionalProperties: false,
        description: 'One alias.',
        message: { type: 'expected a mapping with site, access (and cluster)', required: 'expected a value' },
        properties: {
          site: {
            type: 'string',
            pattern: ALIAS_PATTERN,
            description:
              'The site whose OAR takes the reservation; aliases of one site share one reservation (one OAR job).',
            message: 'expected a site name (letters, digits, - and _)',
          },
          cluster: {
            type: 'string',
            pattern: ALIAS_PATTERN,
            defaultText: 'any node of the site',
            description:
              "The OAR `cluster` property the alias's nodes have (`cluster='NAME'` in the request).",
            message: 'expected a cluster name (letters, digits, - and _)',
          },
          access: {
            type: 'string',
            pattern: ACCESS_PATTERN,
            description:
              "How the site's OAR commands run: `local` (this machine's oarsub, oarstat, oardel) or `ssh [USER@]HOST` (the site frontend's, through OpenSSH, every argument shell-quoted).",
            message: 'expected local or ssh [USER@]HOST',
          },
        },
      },
    },
    ssh_config: {
      type: 'string',
      minLength: 1,
      defaultText: "ssh's own (`~/.ssh/config`)",
      description:
        'An OpenSSH client configuration for `ssh` access (`ssh -F FILE`), relative to this file or `~/`.',
    },
    command_timeout: {
      type: 'integer',
      minimum: 5,
      maximum: 3600,
      defaultText: '120',
      description:
        "Seconds one OAR command on a site may take (oarsub of a reservation waits for OAR's scheduler to validate it, about 11 s on an idle OAR 2.5.9).",
      message: 'expected a whole number of seconds between {minimum} and {maximum}',
    },
  },
};
