/**
 * PXE profiles as pxelinux reads them: a file per node in the boot directory, named after the
 * node's IP address in upper-case hex (or ip / hostname per site configuration), falling back to
 * `default`. The virtual site reads the same files to decide what a node boots.
 */
export type BootTarget =
  | { kind: 'deploy_env'; kernel: string; initrd: string; params: string }
  | { kind: 'local'; partition: number } // chain-load the boot loader of partition N (hd0 N)
  | { kind: 'localboot' }; // boot the disk's MBR boot loader

export function ipHex(address: string): string {
  return address
    .split('.')
    .map((o) => Number(o).toString(16).toUpperCase().padStart(2, '0'))
    .join('');
}

export function profileFileName(
  naming: 'ip_hex' | 'ip' | 'hostname',
  node: { name: string; address: string },
): string {
  if (naming === 'ip') return node.address;
  if (naming === 'hostname') return node.name;
  return ipHex(node.address);
}

export function renderProfile(t: BootTarget, comment = ''): string {
  const head = [
    '# kaploy',
    ...(comment ? [`# ${comment.replace(/\n/g, ' ')}`] : []),
    'DEFAULT kaploy',
    'LABEL kaploy',
  ];
  switch (t.kind) {
    case 'deploy_env':
      return [
        ...head,
        `  KERNEL ${t.kernel}`,
        `  APPEND initrd=${t.initrd}${t.params ? ` ${t.params}` : ''}`,
        '',
      ].join('\n');
    case 'local':
      return [...head, '  COM32 chain.c32', `  APPEND hd0 ${t.partition}`, ''].join('\n');
    case 'localboot':
      return [...head, '  LOCALBOOT 0', ''].join('\n');
  }
}

/** Parses a profile written by renderProfile (or a hand-written one in the same subset). */
export function parseProfile(text: string): BootTarget | undefined {
  let kernel: string | undefined;
  let append = '';
  let com32 = false;
  let localboot = false;
  for (const raw of text.split('\n')) {
    const line = raw.trim();
    const m = /^(\w+)\s*(.*)$/.exec(line);
    if (!m || line.startsWith('#')) continue;
    const key = (m[1] ?? '').toUpperCase();
    const val = m[2] ?? '';
    if (key === 'KERNEL') kernel = val;
    else if (key === 'APPEND') append = val;
    else if (key === 'COM32' && /chain\.c32$/.test(val)) com32 = true;
    else if (key === 'LOCALBOOT') localboot = true;
  }
  if (com32) {
    const p = /hd0\s+(\d+)/.exec(append);
    return p ? { kind: 'local', partition: Number(p[1]) } : { kind: 'localboot' };
  }
  if (localboot) return { kind: 'localboot' };
  if (kernel) {
    const words = append.split(/\s+/).filter(Boolean);
    const initrd = words.find((w) => w.startsWith('initrd='))?.slice('initrd='.length) ?? '';
    return {
      kind: 'deploy_env',
      kernel,
      initrd,
      params: words.filter((w) => !w.startsWith('initrd=')).join(' '),
    };
  }
  return undefined;
}
