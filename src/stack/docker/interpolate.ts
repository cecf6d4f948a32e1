/**
 * Compose variable substitution, as `docker compose` does it: `$VAR`, `${VAR}`, `${VAR:-default}`
 * (default when unset or empty), `${VAR-default}` (default when unset), `${VAR:?msg}` / `${VAR?msg}`
 * (error), and `$$` for a literal `$`. Applied to every string value of the parsed file.
 */
export class InterpolationError extends Error {}

const PATTERN = /\$(?:(\$)|\{([A-Za-z_][A-Za-z0-9_]*)(?:(:?[-?])((?:[^{}]|\{[^{}]*\})*))?\}|([A-Za-z_][A-Za-z0-9_]*))/g;

export function interpolateString(text: string, env: Record<string, string | undefined>): string {
  return text.replace(PATTERN, (match, dollar: string | undefined, braced, op: string | undefined, arg: string | undefined, bare) => {
    if (dollar) return '$';
    const name = (braced ?? bare) as string | undefined;
    if (!name) throw new InterpolationError(`invalid variable reference "${match}"`);
    const value = env[name];
    if (!op) return value ?? '';
    const emptyCounts = op.startsWith(':');
    const missing = value === undefined || (emptyCounts && value === '');
    if (op.endsWith('-')) return missing ? interpolateString(arg ?? '', env) : (value as string);
    if (missing) throw new InterpolationError(`required variable ${name} is missing: ${arg || 'set it in the environment'}`);
    return value as string;
  });
}

/** Substitutes in every string of a parsed YAML tree (keys stay as written, like Compose). */
export function interpolateTree(node: unknown, env: Record<string, string | undefined>): unknown {
  if (typeof node === 'string') return interpolateString(node, env);
  if (Array.isArray(node)) return node.map((n) => interpolateTree(n, env));
  if (node && typeof node === 'object') {
    const out: Record<string, unknown> = {};
    for (const [k, v] of Object.entries(node)) out[k] = interpolateTree(v, env);
    return out;
  }
  return node;
}
