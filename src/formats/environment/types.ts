/**
 * The normalised environment, whatever format it was written in (YAML 3.x or the 3.1 key/value
 * format). Stored as JSON in the environments table and sent as JSON over the API.
 */
export type Visibility = 'public' | 'shared' | 'private';
export const VISIBILITIES: readonly Visibility[] = ['public', 'shared', 'private'];

export type Compression = 'gzip' | 'bzip2' | 'xz' | 'zstd';
export const COMPRESSIONS: readonly Compression[] = ['gzip', 'bzip2', 'xz', 'zstd'];

export type ImageKind = 'tar' | 'dd';
export type OsKind = 'linux' | 'xen' | 'other';
export const OS_KINDS: readonly OsKind[] = ['linux', 'xen', 'other'];

/** Where the engine takes a file from, decided when the environment is added. */
export type FileSource = 'url' | 'server' | 'upload';

/** The format a description was written in; kaenv3 -p prints it back in the same one. */
export type DescriptionFormat = 'yaml' | 'keyvalue';

export interface ImageSpec {
  file: string;
  kind: ImageKind;
  compression: Compression;
  /** MD5 recorded when added ('' in a description not yet resolved by the engine). */
  md5: string;
  source?: FileSource;
}

export interface ArchiveSpec {
  archive: string;
  compression: Compression;
  script: string; // 'none' when there is nothing to run
  md5: string;
  source?: FileSource;
}

export interface BootSpec {
  kernel?: string;
  initrd?: string;
  kernel_params?: string;
  hypervisor?: string;
  hypervisor_params?: string;
}

export interface Environment {
  name: string;
  version: number;
  description: string;
  author: string;
  visibility: Visibility;
  destructive: boolean;
  os: OsKind;
  image: ImageSpec;
  preinstall?: ArchiveSpec;
  postinstalls: ArchiveSpec[];
  boot: BootSpec;
  filesystem?: string;
  partition_type: number;
  /** Owner; set by the engine (absent in a description being added). */
  user?: string;
  format: DescriptionFormat;
}

/** The result of parsing a description: the environment and the non-fatal remarks. */
export interface ParsedDescription {
  env: Environment;
  warnings: string[];
}
