import { adminReporter, checkAgainstSchema, parseAdminYaml } from '../common/config/pipeline.js';
import { readConfigText } from '../common/config/read-file.js';
import { compileSchema } from '../common/config/schema.js';
import { BASE_MICRO_STEPS } from '../engine/workflow/micro-steps.js';
import type { MicroStep } from '../engine/workflow/types.js';
import { MODEL_SCHEMA, MODEL_VALIDATOR } from './model-schema.js';
import type { Distribution } from './random.js';

/** What may go wrong with a node in one micro-step (or its boot): see docs/simulate.md. */
export type FaultKind = 'fail' | 'hang' | 'lost';
/** A micro-step name, or `boot`: the node coming back after a reboot or a kexec. */
export type FaultStep = MicroStep | 'boot';

export interface ClusterHardware {
  firmware: Distribution;
  boot: Distribution;
  kexec: Distribution;
  powerCommand: Distribution;
  diskMBs: number;
  nicMBs: number;
  steps: Partial<Record<MicroStep, Distribution>>;
  faults: Partial<Record<FaultStep, Partial<Record<FaultKind, number>>>>;
}

/** The hardware model, normalised: every cluster's hardware complete. */
export interface HardwareModel {
  imageMB: number;
  hopLatencyMs: number;
  engineNicMBs: number;
  defaults: ClusterHardware;
  clusters: Record<string, ClusterHardware>;
  faultyNodes: Record<string, Partial<Record<FaultStep, FixedFault>>>;
}

/** A deterministic fault: its kind, on every attempt or only on those listed. */
export interface FixedFault {
  kind: FaultKind;
  attempts?: number[];
}

/** Seconds of a micro-step not listed in `steps`. */
export const DEFAULT_STEP_S = 0.5;
// Bounds on what one file may hold, so a generated file cannot make the simulator's memory explode.
const MAX_CLUSTERS = 1000;
const MAX_FAULTY_NODES = 100_000;

const fixed = (s: number): Distribution => ({ mean: s, sd: 0, min: 0, max: s });

/** A model good enough to start from: Grid'5000-like nodes (docs/simulate.md). */
const DEFAULT_HARDWARE: ClusterHardware = {
  firmware: { mean: 60, sd: 5, min: 40, max: 120 },
  boot: { mean: 30, sd: 3, min: 20, max: 60 },
  kexec: fixed(2),
  powerCommand: fixed(1),
  diskMBs: 200,
  nicMBs: 117,
  steps: {},
  faults: {},
};

type DistFile = number | { mean: number; sd?: number; min?: number; max?: number };
interface HardwareFile {
  firmware_s?: DistFile;
  boot_s?: DistFile;
  kexec_s?: DistFile;
  power_command_s?: DistFile;
  disk_mb_s?: number;
  nic_mb_s?: number;
  steps?: Record<string, DistFile>;
  faults?: Record<string, Partial<Record<FaultKind, number>>>;
}
interface ModelFile {
  image_mb?: number;
  hop_latency_ms?: number;
  engine_nic_mb_s?: number;
  defaults?: HardwareFile;
  clusters?: Record<string, HardwareFile>;
  faulty_nodes?: Record<string, Record<string, string>>;
}

const schema = compileSchema(MODEL_SCHEMA, MODEL_VALIDATOR);

function dist(v: DistFile): Distribution {
  if (typeof v === 'number') return fixed(v);
  const sd = v.sd ?? 0;
  return { mean: v.mean, sd, min: v.min ?? 0, max: v.max ?? Math.max(v.mean + 6 * sd, v.mean) };
}

function hardware(f: HardwareFile, base: ClusterHardware): ClusterHardware {
  const steps: Partial<Record<MicroStep, Distribution>> = { ...base.steps };
  for (const [k, v] of Object.entries(f.steps ?? {})) steps[k as MicroStep] = dist(v);
  const faults = { ...base.faults };
  for (const [k, v] of Object.entries(f.faults ?? {})) faults[k as FaultStep] = { ...v };
  return {
    firmware: f.firmware_s === undefined ? base.firmware : dist(f.firmware_s),
    boot: f.boot_s === undefined ? base.boot : dist(f.boot_s),
    kexec: f.kexec_s === undefined ? base.kexec : dist(f.kexec_s),
    powerCommand: f.power_command_s === undefined ? base.powerCommand : dist(f.power_command_s),
    diskMBs: f.disk_mb_s ?? base.diskMBs,
    nicMBs: f.nic_mb_s ?? base.nicMBs,
    steps,
    faults,
  };
}

function fixedFault(text: string): FixedFault {
  const [kind, list] = text.split('@') as [FaultKind, string | undefined];
  return list === undefined ? { kind } : { kind, attempts: list.split(',').map(Number) };
}

/** Parses and validates a hardware model file's text (KAPLOY_CONFIG naming the file and key). */
export function parseHardwareModel(text: string, file: string): HardwareModel {
  const source = parseAdminYaml(text, file);
  const r = adminReporter(file, source);
  const doc = source.data ?? {};
  checkAgainstSchema(schema, doc, 'refuse', r);
  const f = doc as ModelFile;
  const stepNames = new Set<string>([...Object.values(BASE_MICRO_STEPS).flat(), 'boot']);
  const checkSteps = (h: HardwareFile | undefined, at: (string | number)[]) => {
    for (const k of Object.keys(h?.steps ?? {}))
      if (!stepNames.has(k)) r.fail([...at, 'steps', k], 'not a micro-step name');
    for (const k of Object.keys(h?.faults ?? {}))
      if (!stepNames.has(k)) r.fail([...at, 'faults', k], 'not a micro-step name nor boot');
    for (const [k, v] of [
      ['firmware_s', h?.firmware_s],
      ['boot_s', h?.boot_s],
    ] as const) {
      if (typeof v === 'object' && v.min !== undefined && v.max !== undefined && v.min > v.max)
        r.fail([...at, k], 'min is above max');
    }
  };
  checkSteps(f.defaults, ['defaults']);
  const clusters = Object.entries(f.clusters ?? {});
  if (clusters.length > MAX_CLUSTERS) r.fail(['clusters'], `at most ${MAX_CLUSTERS} clusters`);
  for (const [name, h] of clusters) checkSteps(h, ['clusters', name]);
  const faulty = Object.entries(f.faulty_nodes ?? {});
  if (faulty.length > MAX_FAULTY_NODES) r.fail(['faulty_nodes'], `at most ${MAX_FAULTY_NODES} nodes`);
  for (const [node, steps] of faulty)
    for (const k of Object.keys(steps))
      if (!stepNames.has(k)) r.fail(['faulty_nodes', node, k], 'not a micro-step name nor boot');
  const defaults = hardware(f.defaults ?? {}, DEFAULT_HARDWARE);
  return {
    imageMB: f.image_mb ?? 1000,
    hopLatencyMs: f.hop_latency_ms ?? 5,
    engineNicMBs: f.engine_nic_mb_s ?? 1170,
    defaults,
    clusters: Object.fromEntries(clusters.map(([name, h]) => [name, hardware(h, defaults)])),
    faultyNodes: Object.fromEntries(
      faulty.map(([n, steps]) => [
        n,
        Object.fromEntries(Object.entries(steps).map(([step, text]) => [step, fixedFault(text)])),
      ]),
    ),
  };
}

export function loadHardwareModel(file: string): HardwareModel {
  return parseHardwareModel(readConfigText(file, 'hardware model'), file);
}

/** The model without a file: DEFAULT_HARDWARE everywhere, a 1,000 MB image. */
export function defaultHardwareModel(): HardwareModel {
  return parseHardwareModel('{}', '<built-in model>');
}

/** The hardware of `cluster` (the defaults when the model does not list it). */
export function hardwareOf(m: HardwareModel, cluster: string): ClusterHardware {
  return m.clusters[cluster] ?? m.defaults;
}
