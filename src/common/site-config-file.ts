import type { SiteConfig } from './site-config-types.js';

/** The site configuration file as written, once the schema step has checked it and filled its defaults. */
export type CommandFile = { argv?: string[]; http?: { method: string; url: string; token_file?: string } };
export type LevelsFile = Partial<Record<'soft' | 'hard' | 'very_hard', CommandFile>>;
export interface NodeRangeFile {
  names?: string;
  name?: string;
  addresses?: string;
  address?: string;
}
export interface ClusterFile {
  name: string;
  nodes: NodeRangeFile | NodeRangeFile[];
  ssh_port: number;
  partitioning: { block_device: string; swap: number; prod: number; deploy: number; tmp: number };
  deploy_env: { kernel: string; initrd: string; params: string };
  timeouts: { reboot: string; kexec: string };
  automata: string;
  commands: {
    reboot: LevelsFile;
    power_on: LevelsFile;
    power_off: LevelsFile;
    power_status?: CommandFile;
    console?: CommandFile;
  };
  admin_postinstall?: { archive: string; compression: 'gzip' | 'bzip2' | 'xz' | 'zstd'; script: string };
}
export interface SiteFile {
  site: string;
  server: {
    host: string;
    port: number;
    max_connections: number;
    max_connections_per_address: number;
    header_timeout: number;
    tls_cert: string;
    tls_key: string;
  };
  data_dir: string;
  admins: string[];
  boot_dir: string;
  pxe_file_naming: SiteConfig['pxeFileNaming'];
  image_dirs: string[];
  ssh: {
    key: string;
    user: string;
    connect_timeout: number;
    keepalive_interval: number;
    max_channels: number;
  };
  windows: { reboot: number; check: number };
  extract_dir: string;
  marker_port: number;
  wait_reboot: { initial_delay_ms: number; poll_ms: number };
  production: { environment: string; user: string };
  cache: {
    max_bytes: number;
    download_idle_timeout: number;
    download_timeout: number;
    max_redirects: number;
    cross_host_redirects: boolean;
  };
  admission: { max_operations: number; max_nodes: number };
  clusters: ClusterFile[];
  metrics: { enabled: boolean; listen: string };
  kadeploy_api: {
    enabled: boolean;
    host: string;
    port: number;
    prefix: string;
    trusted_proxies: string[];
    header_prefix: string;
  };
}
