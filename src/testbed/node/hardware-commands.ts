import { commandList, simpleCommandWords } from './command-words.js';
import { type FileCommand, parseFileCommand } from './file-commands.js';

/**
 * The hardware command shapes built by src/formats/node-commands.ts, recognised so the virtual
 * node can act them on its hardware model instead of running them. A line naming one of these
 * programs in another shape is `unsupported` (a clear error, never a silent success).
 */
export type HardwareCommand =
  | { kind: 'sfdisk'; device: string }
  | { kind: 'mkfs'; fstype: string; device: string }
  | { kind: 'mkswap'; device: string }
  | { kind: 'mount'; device: string; dir: string }
  | { kind: 'bind-mount'; source: string; dir: string }
  | { kind: 'mount-list' }
  | { kind: 'umount'; dir: string }
  | { kind: 'grub-install'; bootDir: string; device: string }
  | { kind: 'kexec-load'; kernel: string; initrd?: string; append: string }
  | { kind: 'kexec-exec' }
  | { kind: 'reboot' }
  | { kind: 'sync' }
  | { kind: 'relay'; port: number; next: { host: string; port: number }[]; sink: string }
  | { kind: 'unsupported'; program: string; message: string };

/** A relay forwards to at most this many children (a tree stage). */
const MAX_NEXT = 16;

const PROGRAMS = new Set([
  'sfdisk',
  'mkfs',
  'mkswap',
  'mount',
  'umount',
  'grub-install',
  'kexec',
  'reboot',
  'sync',
  'kaploy-relay',
]);

export function parseHardwareCommand(line: string): HardwareCommand | undefined {
  const w = simpleCommandWords(line);
  return w ? hardwareCommandOfWords(w, line) : undefined;
}

/** One command of a line the node answers itself: a hardware command or a file command. */
export type NativeCommand =
  | { kind: 'hardware'; cmd: Exclude<HardwareCommand, { kind: 'relay' }> }
  | { kind: 'file'; cmd: FileCommand };

/**
 * An AND list (`a && b && ...`) whose every command the node answers itself, without a sandbox:
 * hardware commands and the file commands of file-commands.ts (`test -f`, `mkdir -p`,
 * `cat > FILE`), e.g. `nodeCommands.writeFile(...) && nodeCommands.installBootloader(...)`.
 * `reboot` and `kexec -e` only last. Undefined: the line runs in the sandbox.
 */
export function parseNativeList(line: string): NativeCommand[] | undefined {
  const list = commandList(line);
  if (!list || list.length === 0) return undefined;
  const out: NativeCommand[] = [];
  for (const [i, c] of list.entries()) {
    const file = parseFileCommand(c);
    if (file) {
      out.push({ kind: 'file', cmd: file });
      continue;
    }
    if (c.stdoutTo !== undefined) return undefined;
    const hw = hardwareCommandOfWords(c.words, line);
    if (!hw || hw.kind === 'relay') return undefined;
    if ((hw.kind === 'reboot' || hw.kind === 'kexec-exec') && i !== list.length - 1) return undefined;
    out.push({ kind: 'hardware', cmd: hw });
  }
  return out;
}

function hardwareCommandOfWords(w: string[], line: string): HardwareCommand | undefined {
  if (w.length === 0) return undefined;
  const program = w[0] as string;
  if (!PROGRAMS.has(program)) return undefined;
  const shape = matchShape(w);
  return (
    shape ?? {
      kind: 'unsupported',
      program,
      message: `${program}: this form is not supported by the virtual node's hardware model: ${line}`,
    }
  );
}

function matchShape(w: string[]): HardwareCommand | undefined {
  const [p, a, b, c, d] = w;
  const len = w.length;
  switch (p) {
    case 'sfdisk':
      return len === 3 && a === '--quiet' && b ? { kind: 'sfdisk', device: b } : undefined;
    case 'mkfs':
      return len === 5 && a === '-t' && b && c === '-q' && d
        ? { kind: 'mkfs', fstype: b, device: d }
        : undefined;
    case 'mkswap':
      return len === 2 && a ? { kind: 'mkswap', device: a } : undefined;
    case 'mount':
      // Bare `mount` lists the mount table (execo and EnOSlib read it to find deployed nodes);
      // `mount -o bind SRC DIR` is the tutorial's manual capture.
      if (len === 1) return { kind: 'mount-list' };
      if (len === 5 && a === '-o' && b === 'bind' && c && d) return { kind: 'bind-mount', source: c, dir: d };
      return len === 3 && a && b ? { kind: 'mount', device: a, dir: b } : undefined;
    case 'umount':
      return len === 2 && a ? { kind: 'umount', dir: a } : undefined;
    case 'grub-install':
      return len === 3 && a?.startsWith('--boot-directory=') && b
        ? { kind: 'grub-install', bootDir: a.slice('--boot-directory='.length), device: b }
        : undefined;
    case 'kexec':
      if (len === 2 && a === '-e') return { kind: 'kexec-exec' };
      return matchKexecLoad(w);
    case 'reboot':
      return len === 1 ? { kind: 'reboot' } : undefined;
    case 'sync':
      return len === 1 ? { kind: 'sync' } : undefined;
    case 'kaploy-relay':
      return matchRelay(w);
  }
  return undefined;
}

function matchKexecLoad(w: string[]): HardwareCommand | undefined {
  if (w[1] !== '-l' || !w[2]) return undefined;
  const kernel = w[2];
  let initrd: string | undefined;
  let append: string | undefined;
  for (const opt of w.slice(3)) {
    if (opt.startsWith('--initrd=') && initrd === undefined) initrd = opt.slice('--initrd='.length);
    else if (opt.startsWith('--append=') && append === undefined) append = opt.slice('--append='.length);
    else return undefined;
  }
  if (append === undefined) return undefined;
  return initrd === undefined
    ? { kind: 'kexec-load', kernel, append }
    : { kind: 'kexec-load', kernel, initrd, append };
}

function matchRelay(w: string[]): HardwareCommand | undefined {
  if (w[1] !== '--port' || !w[2] || !/^\d{1,5}$/.test(w[2])) return undefined;
  const port = Number(w[2]);
  if (port < 1 || port > 65535) return undefined;
  let i = 3;
  const next: { host: string; port: number }[] = [];
  while (w[i] === '--next') {
    const m = /^([A-Za-z0-9.-]+):(\d{1,5})$/.exec(w[i + 1] ?? '');
    if (!m || Number(m[2]) < 1 || Number(m[2]) > 65535 || next.length >= MAX_NEXT) return undefined;
    next.push({ host: m[1] as string, port: Number(m[2]) });
    i += 2;
  }
  if (w[i] !== '--' || w[i + 1] !== 'sh' || w[i + 2] !== '-c' || w[i + 3] === undefined || w.length !== i + 4)
    return undefined;
  return { kind: 'relay', port, next, sink: w[i + 3] as string };
}
