/**
 * Kadeploy prints node sets folded (`to_s_fold`): `gdx-[1-3,7].orsay.grid5000.fr`. Names are
 * grouped by what surrounds the last number of their host part (before the first dot), so digits
 * in the domain (`node-2.site1.grid5000.fr`) do not split a set; a host part without a number falls
 * back to the name's last number, and a name without any is printed as is. Groups keep the order in
 * which their first name appears.
 */
export function foldNodes(nodes: readonly string[]): string {
  const groups = new Map<string, { prefix: string; suffix: string; nums: { n: number; text: string }[] }>();
  const loose: string[] = [];
  const order: (string | { key: string })[] = [];
  for (const name of nodes) {
    const m = /^([^.]*?)(\d+)([^.\d]*(?:\..*)?)$/.exec(name) ?? /^(.*?)(\d+)(\D*)$/.exec(name);
    // A number longer than a range bound may be (node-names.ts: 9 digits) is printed as is, so
    // that the folded text expands back to the same names.
    if (!m || (m[2] ?? '').length > 9) {
      loose.push(name);
      order.push(name);
      continue;
    }
    const [, prefix = '', digits = '', suffix = ''] = m;
    // Zero-padded numbers (node-007) only fold with numbers of the same width.
    const key = `${prefix}\u0000${digits.startsWith('0') ? digits.length : ''}\u0000${suffix}`;
    let g = groups.get(key);
    if (!g) {
      g = { prefix, suffix, nums: [] };
      groups.set(key, g);
      order.push({ key });
    }
    g.nums.push({ n: Number(digits), text: digits });
  }
  const parts = order.map((o) => {
    if (typeof o === 'string') return o;
    const g = groups.get(o.key)!;
    const nums = [...new Map(g.nums.map((x) => [x.n, x])).values()].sort((a, b) => a.n - b.n);
    if (nums.length === 1) return `${g.prefix}${nums[0]!.text}${g.suffix}`;
    const ranges: string[] = [];
    for (let i = 0; i < nums.length; ) {
      let j = i;
      while (j + 1 < nums.length && nums[j + 1]!.n === nums[j]!.n + 1) j++;
      ranges.push(i === j ? nums[i]!.text : `${nums[i]!.text}-${nums[j]!.text}`);
      i = j + 1;
    }
    return `${g.prefix}[${ranges.join(',')}]${g.suffix}`;
  });
  return parts.join(',');
}
