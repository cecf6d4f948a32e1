/**
 * Just enough semver to pick a dependency version from registry metadata: exact versions,
 * `^`, `~`, `>=`, `*`/`x` ranges, `||` alternatives. Prereleases only match exactly.
 */
type V = [number, number, number, string];

export function parseVersion(s: string): V | undefined {
  const m = /^v?(\d+)\.(\d+)\.(\d+)(?:-([0-9A-Za-z.-]+))?(?:\+.*)?$/.exec(s.trim());
  return m ? [Number(m[1]), Number(m[2]), Number(m[3]), m[4] ?? ''] : undefined;
}

export function compareVersions(a: string, b: string): number {
  const x = parseVersion(a)!;
  const y = parseVersion(b)!;
  for (let i = 0; i < 3; i++) if (x[i] !== y[i]) return (x[i] as number) - (y[i] as number);
  if (x[3] === y[3]) return 0;
  if (!x[3]) return 1;
  if (!y[3]) return -1;
  return x[3] < y[3] ? -1 : 1;
}

function satisfiesOne(v: string, range: string): boolean {
  const r = range.trim();
  const pv = parseVersion(v);
  if (!pv) return false;
  if (r === '' || r === '*' || r === 'x' || r === 'latest') return !pv[3];
  if (parseVersion(r)) return compareVersions(v, r) === 0;
  if (pv[3]) return false;
  const xr = /^(\d+)(?:\.(\d+|x|\*))?(?:\.(x|\*))?$/.exec(r);
  if (xr) return pv[0] === Number(xr[1]) && (xr[2] === undefined || xr[2] === 'x' || xr[2] === '*' || pv[1] === Number(xr[2]));
  const op = /^(\^|~|>=|>|<=|<)\s*(.+)$/.exec(r);
  if (!op) return false;
  // Partial versions (`<6`, `>=4.1`) mean the missing parts are zero.
  const full = op[2]!.split('-')[0]!.split('.').length < 3 ? [...op[2]!.split('.'), '0', '0'].slice(0, 3).join('.') : op[2]!;
  const base = parseVersion(full);
  if (!base) return false;
  const cmp = compareVersions(v, full);
  if (op[1] === '>=') return cmp >= 0;
  if (op[1] === '>') return cmp > 0;
  if (op[1] === '<=') return cmp <= 0;
  if (op[1] === '<') return cmp < 0;
  if (cmp < 0) return false;
  if (op[1] === '~') return pv[0] === base[0] && pv[1] === base[1];
  // ^: same left-most non-zero part.
  if (base[0] > 0) return pv[0] === base[0];
  if (base[1] > 0) return pv[0] === 0 && pv[1] === base[1];
  return pv[0] === 0 && pv[1] === 0 && pv[2] === base[2];
}

export function satisfies(v: string, range: string): boolean {
  return range.split('||').some((part) => {
    const pieces = part.trim().split(/\s+(?=[<>=^~\d])/).filter(Boolean);
    return pieces.length <= 1 ? satisfiesOne(v, part) : pieces.every((p) => satisfiesOne(v, p));
  });
}

export function maxSatisfying(versions: string[], range: string): string | undefined {
  return versions.filter((v) => parseVersion(v) && satisfies(v, range)).sort(compareVersions).at(-1);
}
