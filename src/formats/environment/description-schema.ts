import type { ValidatorOptions } from '../../common/config/ajv-instance.js';
import type { ConfigSchema } from '../../common/config/schema-types.js';
import { COMPRESSIONS, OS_KINDS, VISIBILITIES } from './types.js';

/**
 * An environment description (YAML 3.x shape; the 3.1 key/value format is mapped onto it), as a
 * JSON Schema. Values are loose on purpose: the key/value format gives every value as text, and
 * Kadeploy accepted numbers and booleans where text is meant; normalise.ts converts them.
 * Unknown keys are warned about ("Unused field"), not refused, as in Kadeploy.
 */
const NAME_PATTERN = '^[A-Za-z0-9][A-Za-z0-9._+-]{0,127}$';

const text = (description: string, extra: ConfigSchema = {}): ConfigSchema => ({
  type: ['string', 'number', 'boolean'],
  pattern: '^[^\\0\\r\\n]*$',
  typeText: 'text (one line)',
  description,
  message: { type: 'expected a string', pattern: 'must be a single line' },
  ...extra,
});
const int = (description: string, max: number, pattern: string, dflt: number): ConfigSchema => ({
  type: ['integer', 'string'],
  pattern,
  typeText: `integer 0..${max}`,
  minimum: 0,
  maximum: max,
  default: dflt,
  description,
  message: `'{value}' is not valid: expected an integer between 0 and ${max}`,
});
const bool = (description: string): ConfigSchema => ({
  enum: [true, false, 'true', 'false', '1', '0', 1, 0],
  typeText: 'boolean (true, false, 1, 0)',
  default: false,
  description,
  message: "'{value}' is not valid: expected true or false",
});
const compression = (description: string): ConfigSchema => ({
  type: 'string',
  enum: COMPRESSIONS,
  description,
  message: { required: `is mandatory (expected one of ${COMPRESSIONS.join(', ')})` },
});
const FILE_WHAT = 'a file: an http(s) URL, server://PATH or a path';
const fileRef = (description: string): ConfigSchema =>
  text(description, {
    message: {
      type: `expected ${FILE_WHAT}`,
      pattern: 'must be a single line',
      required: `is mandatory (expected ${FILE_WHAT})`,
    },
  });
const ARCHIVE: ConfigSchema = {
  type: 'object',
  required: ['archive', 'compression'],
  message: { type: 'expected a mapping of keys' },
  properties: {
    archive: fileRef('The archive (a URL, server:///PATH or a path).'),
    compression: compression('Its compression.'),
    script: text('Script run from the archive, or `none`.', { default: 'none' }),
    file: text('Accepted for compatibility, not used.'),
  },
};

/** How the description validator is built: no defaults filled, no coercion (normalise.ts converts). */
export const DESCRIPTION_VALIDATOR: ValidatorOptions = { precompiled: 'description' };

export const DESCRIPTION_SCHEMA: ConfigSchema = {
  type: 'object',
  required: ['name', 'image'],
  message: { type: 'expected a mapping of keys' },
  properties: {
    name: {
      type: ['string', 'number'],
      pattern: NAME_PATTERN,
      typeText: 'text',
      description: "The environment name: letters, digits, '.', '_', '+' and '-' (at most 128).",
      message: {
        type: 'expected the environment name',
        required: 'is mandatory (expected the environment name)',
        pattern: "'{value}' is not valid: expected letters, digits, '.', '_', '+' and '-' (at most 128)",
      },
    },
    version: int('Version (`kadeploy3 -e NAME --env-version N`).', 1_000_000, '^(0x[0-9a-fA-F]+|[0-9]+)$', 1),
    description: text('One line for `kaenv3 -l`.', { default: '' }),
    author: text('Who to ask about it.', { default: '' }),
    visibility: {
      type: 'string',
      enum: VISIBILITIES,
      default: 'private',
      description: 'Who sees it: public (admins only), shared (everyone), private (its owner).',
    },
    destructive: bool('The deployment destroys the other partitions (Kadeploy demolishing_env).'),
    os: {
      type: 'string',
      enum: OS_KINDS,
      defaultText: 'required in YAML; `linux` in the key/value format',
      description: 'Kind of system.',
      message: { required: `is mandatory (expected one of ${OS_KINDS.join(', ')})` },
    },
    image: {
      type: 'object',
      required: ['file', 'kind', 'compression'],
      description: 'The system image.',
      message: {
        type: 'expected a mapping of keys',
        required: 'is mandatory (expected a mapping with file, kind and compression)',
      },
      properties: {
        file: fileRef('The image (a URL, server:///PATH or a path).'),
        kind: {
          type: 'string',
          enum: ['tar', 'dd'],
          description: 'tar (a file tree) or dd (a partition image).',
          message: {
            required: 'is mandatory (expected tar or dd)',
            'enum:fsa': 'fsa images are not supported: expected tar or dd',
          },
        },
        compression: compression('Its compression.'),
      },
    },
    preinstall: { ...ARCHIVE, description: 'Archive run in the deployment environment before partitioning.' },
    postinstalls: {
      type: 'array',
      items: ARCHIVE,
      default: [],
      description: 'Archives run on the deployed system before it reboots, in order.',
      message: 'expected a list of {archive, compression, script}',
    },
    boot: {
      type: 'object',
      default: {},
      description: 'How the deployed system boots.',
      message: { type: 'expected a mapping of keys' },
      properties: {
        kernel: text('Kernel path inside the image (mandatory for a tar image).'),
        initrd: text('Initrd path inside the image.'),
        kernel_params: text('Kernel command line.'),
        hypervisor: text('Hypervisor (mandatory for a xen environment).'),
        hypervisor_params: text('Hypervisor command line.'),
        block_device: text('Accepted for compatibility, not used.'),
        partition: text('Accepted for compatibility, not used.'),
      },
    },
    filesystem: text('Filesystem of the deploy partition, e.g. ext4 (mandatory for a tar image).', {
      pattern: '^[a-z0-9]{2,16}$',
      message: {
        type: 'expected a string',
        pattern: "'{value}' is not valid: expected a filesystem type such as ext4",
      },
    }),
    partition_type: int(
      'Partition type id (0x83; hexadecimal in the key/value format).',
      255,
      '^(0x)?[0-9a-fA-F]+$',
      0,
    ),
    multipart: bool('Multi-partition environments are not supported: false only.'),
    options: { description: 'Accepted for compatibility, not used.' },
    user: { description: 'The owner; set by the engine (ignored in a description being added).' },
  },
};
