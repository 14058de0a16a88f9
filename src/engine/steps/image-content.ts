import { spawn } from 'node:child_process';
import { open } from 'node:fs/promises';
import type { Compression, ImageKind } from '../../formats/node-commands.js';

/** Enough decompressed bytes to see every signature below (Btrfs's is at 64 KiB). */
const HEAD_BYTES = 128 * 1024;
/** Results per image checksum: a site deploys the same few images again and again. */
const MAX_CACHED = 64;

const DECOMPRESSOR: Record<Compression, string[]> = {
  gzip: ['gzip', '-cd'],
  bzip2: ['bzip2', '-cd'],
  xz: ['xz', '-cd'],
  zstd: ['zstd', '-qcd'],
};

type Head = { bytes: Buffer; error?: string };

/**
 * The first HEAD_BYTES of the decompressed image. The decompressor reads the file on its stdin
 * and is killed once enough has come out, so the cost is bounded whatever the image's size.
 */
async function decompressedHead(file: string, c: Compression, signal: AbortSignal): Promise<Head> {
  const fh = await open(file, 'r');
  try {
    const [cmd, ...args] = DECOMPRESSOR[c];
    const child = spawn(cmd as string, args, { stdio: [fh.fd, 'pipe', 'pipe'], signal });
    const chunks: Buffer[] = [];
    let size = 0;
    let stderr = '';
    child.stderr?.on('data', (d: Buffer) => {
      if (stderr.length < 1000) stderr += d.toString();
    });
    child.stdout?.on('data', (d: Buffer) => {
      if (size >= HEAD_BYTES) return;
      chunks.push(d);
      size += d.length;
      if (size >= HEAD_BYTES) child.kill('SIGKILL');
    });
    const code = await new Promise<number | null>((resolve, reject) => {
      child.on('error', reject);
      child.on('close', (status) => resolve(status));
    });
    const bytes = Buffer.concat(chunks).subarray(0, HEAD_BYTES);
    // Killed after enough bytes is the normal end; an exit before that with an error is the image's.
    if (bytes.length < HEAD_BYTES && code !== 0)
      return { bytes, error: `${cmd}: ${stderr.trim().split('\n').at(-1) ?? `exit status ${code}`}` };
    return { bytes };
  } finally {
    await fh.close();
  }
}

const at = (b: Buffer, offset: number, text: string) =>
  b.length >= offset + text.length && b.toString('latin1', offset, offset + text.length) === text;

/** The file system (or disk label) whose signature starts the data, if any. */
function rawKind(b: Buffer): string | undefined {
  if (b.length >= 1082 && b.readUInt16LE(1080) === 0xef53) return 'ext2/3/4';
  if (at(b, 0, 'XFSB')) return 'XFS';
  if (at(b, 0x10040, '_BHRfS_M')) return 'Btrfs';
  if (b.length >= 512 && b.readUInt16BE(510) === 0x55aa) return 'a partitioned disk';
  return undefined;
}

const isTar = (b: Buffer) => at(b, 257, 'ustar');

/** Why the decompressed head cannot be deployed as `kind`, or undefined when it can. */
function imageContentProblem(kind: ImageKind, head: Head): string | undefined {
  const b = head.bytes;
  if (head.error !== undefined)
    return `the image is truncated or corrupt (${head.error} after ${b.length} bytes)`;
  if (b.length === 0) return 'the image is empty (it decompresses to 0 bytes)';
  if (kind === 'dd') {
    if (rawKind(b) !== undefined) return undefined;
    if (isTar(b)) return 'the image is a tar archive, not the dd image its description says';
    return `the dd image holds no file system the deployment can boot (no ext2/3/4, XFS or Btrfs superblock in its first ${b.length} bytes)`;
  }
  if (isTar(b)) return undefined;
  const raw = rawKind(b);
  if (raw !== undefined)
    return `the image is ${raw} data written raw, not the tar archive its description says`;
  return 'the image is not a tar archive';
}

const cache = new Map<string, string | undefined>();

/**
 * Checks once per image (by checksum) that it holds what its description says, before it is sent
 * anywhere: an empty, corrupt or mislabelled image would otherwise be "written" and the node would
 * boot whatever its disk held before, a false success.
 */
export async function checkImageContent(
  image: { path: string; kind: ImageKind; compression: Compression; md5: string },
  signal: AbortSignal,
): Promise<string | undefined> {
  const key = `${image.md5}:${image.kind}:${image.compression}`;
  if (cache.has(key)) return cache.get(key);
  const problem = imageContentProblem(
    image.kind,
    await decompressedHead(image.path, image.compression, signal),
  );
  if (cache.size >= MAX_CACHED) cache.delete(cache.keys().next().value as string);
  cache.set(key, problem);
  return problem;
}
