import type { ValidatorOptions } from '../common/config/ajv-instance.js';
import type { ConfigSchema } from '../common/config/schema-types.js';

/** The hardware model file of `kaploy simulate` (docs/simulate.md), as a JSON Schema. */

const MAX_SECONDS = 86_400;

const seconds = (description: string): ConfigSchema => ({
  description,
  type: ['number', 'object'],
  minimum: 0,
  maximum: MAX_SECONDS,
  additionalProperties: false,
  required: ['mean'],
  properties: {
    mean: { type: 'number', minimum: 0, maximum: MAX_SECONDS },
    sd: { type: 'number', minimum: 0, maximum: MAX_SECONDS },
    min: { type: 'number', minimum: 0, maximum: MAX_SECONDS },
    max: { type: 'number', minimum: 0, maximum: MAX_SECONDS },
  },
  message: {
    type: 'expected seconds (a number) or {mean, sd, min, max}',
    minimum: 'expected seconds from {minimum} to {maximum}',
    maximum: 'expected seconds from {minimum} to {maximum}',
  },
});

const rate = (description: string): ConfigSchema => ({
  description,
  type: 'number',
  exclusiveMinimum: 0,
  maximum: 1_000_000,
  message: 'expected MB/s above 0 and at most 1000000',
});

const probability: ConfigSchema = {
  type: 'number',
  minimum: 0,
  maximum: 1,
  message: 'expected a probability from 0 to 1',
};

const FAULTS: ConfigSchema = {
  type: 'object',
  description:
    'Per micro-step name (or `boot`: the node does not come back from a reboot or kexec), the probability per node and attempt of each fault kind.',
  additionalProperties: {
    type: 'object',
    additionalProperties: false,
    properties: { fail: probability, hang: probability, lost: probability },
  },
};

const HARDWARE: Record<string, ConfigSchema> = {
  firmware_s: seconds('Firmware/POST time of a power reboot (skipped by kexec).'),
  boot_s: seconds('Kernel boot time, until sshd answers.'),
  kexec_s: seconds('Time of the kexec command itself before the kernel boots.'),
  power_command_s: seconds('Time of a reboot command (IPMI, BMC API), held in the reboot window.'),
  disk_mb_s: rate('Disk write rate (MB/s) of the image sink.'),
  nic_mb_s: rate('NIC rate (MB/s), in and out.'),
  steps: {
    type: 'object',
    description: 'Seconds per node of other micro-steps, by name (default 0.5 s each).',
    additionalProperties: seconds('Seconds per node.'),
  },
  faults: FAULTS,
};

export const MODEL_VALIDATOR: ValidatorOptions = {};

export const MODEL_SCHEMA: ConfigSchema = {
  type: 'object',
  message: { type: 'expected a mapping of keys to values' },
  additionalProperties: false,
  properties: {
    image_mb: {
      type: 'number',
      exclusiveMinimum: 0,
      maximum: 1_000_000,
      description: 'Size of the image as sent to the nodes, in MB.',
      message: 'expected MB above 0 and at most 1000000',
    },
    hop_latency_ms: {
      type: 'number',
      minimum: 0,
      maximum: 60_000,
      description: 'Per relay of a chain or a tree: start-up and forwarding latency, in ms.',
    },
    engine_nic_mb_s: rate("The engine's uplink (MB/s): bounds every broadcast."),
    defaults: {
      type: 'object',
      additionalProperties: false,
      properties: HARDWARE,
      description: 'Hardware of every cluster, unless its own entry says otherwise.',
    },
    clusters: {
      type: 'object',
      description: 'Per cluster name: the keys of `defaults` that differ.',
      additionalProperties: { type: 'object', additionalProperties: false, properties: HARDWARE },
    },
    faulty_nodes: {
      type: 'object',
      description:
        'Deterministic faults: per node name, per micro-step (or `boot`), a fault kind, on every attempt or on the attempts listed after @ (0 first; for `boot`, the node’s boots in order).',
      additionalProperties: {
        type: 'object',
        additionalProperties: {
          type: 'string',
          pattern: '^(fail|hang|lost)(@[0-9]{1,3}(,[0-9]{1,3}){0,15})?$',
          message: {
            pattern:
              "'{value}': expected fail, hang or lost, optionally @ATTEMPTS (fail@0: the first attempt only)",
          },
        },
      },
    },
  },
};
