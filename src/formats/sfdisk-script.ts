/**
 * Parser for the sfdisk script subset a deployment uses (`partitionScript` in
 * src/formats/node-commands.ts, and hand-written scripts in the same syntax): a `label:` header
 * and one `[N :] key=value, ...` line per partition. Malformed scripts are refused with the line
 * number, as sfdisk does, so the engine sees a clear failure.
 */
export interface PartitionSpec {
  number: number;
  /** MBR type as lower-case hex ('83' linux, '82' swap, '5' extended), or a GPT alias. */
  type: string;
  sizeMiB?: number;
  bootable: boolean;
}

export interface PartitionTable {
  label: 'dos' | 'gpt';
  partitions: PartitionSpec[];
}

export class SfdiskScriptError extends Error {}

const TYPE_ALIASES: Record<string, string> = { L: '83', S: '82', E: '5', X: '85', U: 'ef', R: 'fd', V: '8e' };
const EXTENDED = new Set(['5', 'f', '85']);
const MAX_LINES = 256;

export const isExtendedType = (type: string): boolean => EXTENDED.has(type);

export function parseSfdiskScript(text: string, blockDevice: string): PartitionTable {
  let label: 'dos' | 'gpt' = 'dos';
  const partitions: PartitionSpec[] = [];
  const lines = text.split('\n');
  if (lines.length > MAX_LINES)
    throw new SfdiskScriptError(`sfdisk: script too long (${lines.length} lines)`);
  let nextNumber = 1;
  lines.forEach((raw, idx) => {
    const line = raw.trim();
    const where = `sfdisk: line ${idx + 1}`;
    if (line === '' || line.startsWith('#')) return;
    const header =
      /^(label|label-id|unit|device|first-lba|last-lba|sector-size|table-length|grain)\s*:\s*(.*)$/.exec(
        line,
      );
    if (header) {
      if (header[1] === 'label') {
        if (header[2] !== 'dos' && header[2] !== 'gpt')
          throw new SfdiskScriptError(`${where}: unsupported label '${header[2]}'`);
        label = header[2];
      } else if (header[1] === 'unit' && header[2] !== 'sectors') {
        throw new SfdiskScriptError(`${where}: unsupported unit '${header[2]}'`);
      }
      return;
    }
    let body = line;
    const named = /^(\S+)\s*:\s*(.*)$/.exec(line);
    if (named && !named[1]?.includes('=')) {
      const name = named[1] as string;
      const num = /^\d+$/.test(name)
        ? Number(name)
        : name.startsWith(blockDevice) && /^\d+$/.test(name.slice(blockDevice.length))
          ? Number(name.slice(blockDevice.length))
          : Number.NaN;
      if (!Number.isInteger(num) || num < 1 || num > 128)
        throw new SfdiskScriptError(`${where}: bad partition name '${name}'`);
      nextNumber = num;
      body = named[2] ?? '';
    }
    partitions.push(parseFields(body, nextNumber, where));
    nextNumber++;
  });
  validate(label, partitions);
  return { label, partitions: partitions.sort((a, b) => a.number - b.number) };
}

function parseFields(body: string, number: number, where: string): PartitionSpec {
  const spec: PartitionSpec = { number, type: '83', bootable: false };
  for (const f of body.split(/[,\s]+/).filter(Boolean)) {
    if (f === 'bootable') {
      spec.bootable = true;
      continue;
    }
    const m = /^(start|size|type|Id|name|uuid|attrs)=(.*)$/.exec(f);
    if (!m) throw new SfdiskScriptError(`${where}: unexpected field '${f}'`);
    const value = m[2] as string;
    if (m[1] === 'size') {
      if (value !== '+') spec.sizeMiB = parseSize(value, where);
    } else if (m[1] === 'start') {
      parseSize(value, where);
    } else if (m[1] === 'type' || m[1] === 'Id') {
      spec.type = parseType(value, where);
    }
  }
  return spec;
}

function parseSize(value: string, where: string): number {
  const m = /^(\d+)(KiB|MiB|GiB|TiB|K|M|G|T)?$/.exec(value);
  if (!m) throw new SfdiskScriptError(`${where}: bad size '${value}'`);
  const n = Number(m[1]);
  const unit = (m[2] ?? 's')[0];
  const mib =
    unit === 'K'
      ? n / 1024
      : unit === 'M'
        ? n
        : unit === 'G'
          ? n * 1024
          : unit === 'T'
            ? n * 1024 * 1024
            : (n * 512) / 1048576;
  if (mib <= 0) throw new SfdiskScriptError(`${where}: size must be positive`);
  return mib;
}

function parseType(value: string, where: string): string {
  const alias = TYPE_ALIASES[value];
  if (alias) return alias;
  if (/^(0x)?[0-9a-fA-F]{1,2}$/.test(value)) return Number.parseInt(value, 16).toString(16);
  if (/^[0-9A-Fa-f]{8}-[0-9A-Fa-f]{4}-[0-9A-Fa-f]{4}-[0-9A-Fa-f]{4}-[0-9A-Fa-f]{12}$/.test(value))
    return value.toLowerCase();
  throw new SfdiskScriptError(`${where}: unknown partition type '${value}'`);
}

function validate(label: 'dos' | 'gpt', parts: PartitionSpec[]): void {
  if (parts.length === 0) throw new SfdiskScriptError('sfdisk: the script defines no partition');
  const seen = new Set<number>();
  for (const p of parts) {
    if (seen.has(p.number)) throw new SfdiskScriptError(`sfdisk: partition ${p.number} defined twice`);
    seen.add(p.number);
  }
  if (label === 'gpt') return;
  const extended = parts.filter((p) => p.number <= 4 && isExtendedType(p.type));
  if (extended.length > 1) throw new SfdiskScriptError('sfdisk: more than one extended partition');
  const logical = parts.filter((p) => p.number > 4).map((p) => p.number);
  if (logical.length > 0 && extended.length === 0)
    throw new SfdiskScriptError(`sfdisk: logical partition ${logical[0]} needs an extended partition`);
  logical
    .sort((a, b) => a - b)
    .forEach((n, i) => {
      if (n !== 5 + i)
        throw new SfdiskScriptError(
          `sfdisk: logical partitions must be numbered from 5 without gaps (got ${n})`,
        );
    });
  for (const p of parts)
    if (p.number > 4 && isExtendedType(p.type))
      throw new SfdiskScriptError(`sfdisk: partition ${p.number}: a logical partition cannot be extended`);
}
