/**
 * Merges our telemetry variables into the `env` block of `.claude/settings.local.json`
 * (the Claude Code panel does not see terminal env) and takes out exactly what we put in.
 * String in, string out; the caller persists the returned `written` record between the two.
 */

/** What we wrote for one key, and what was there before (restored on removal, as it was: a number stays a number). */
export interface WrittenEntry {
  value: string;
  previous?: unknown;
}

/** Everything we wrote into one settings file. */
export interface WrittenRecord {
  entries: Record<string, WrittenEntry>;
  /** We created the `env` block, so we remove it when it ends up empty. */
  createdEnv: boolean;
}

export class SettingsParseError extends Error {
  constructor(readonly detail: string) {
    super(`.claude/settings.local.json is not valid JSON (${detail}); it was left untouched — fix or remove it, then try again.`);
    this.name = 'SettingsParseError';
  }
}

type Json = Record<string, unknown>;

function parse(text: string): Json {
  if (text.trim() === '') return {};
  let v: unknown;
  try {
    v = JSON.parse(text);
  } catch (e) {
    throw new SettingsParseError((e as Error).message);
  }
  if (typeof v !== 'object' || v === null || Array.isArray(v)) throw new SettingsParseError('the top level is not an object');
  return v as Json;
}

/** The indentation the file already uses (default two spaces), and its line ending. */
function style(text: string): { indent: string | number; eol: string } {
  const m = /\n([ \t]+)["}\]]/.exec(text);
  const eol = text.includes('\r\n') ? '\r\n' : '\n';
  return { indent: m ? m[1]! : 2, eol };
}

function serialize(obj: Json, original: string): string {
  const { indent, eol } = style(original);
  const body = JSON.stringify(obj, null, indent);
  return (eol === '\n' ? body : body.replace(/\n/g, eol)) + eol;
}

function envOf(obj: Json): Record<string, unknown> | undefined {
  const env = obj.env;
  if (env === undefined) return undefined;
  if (typeof env !== 'object' || env === null || Array.isArray(env)) {
    throw new SettingsParseError(`"env" is not an object`);
  }
  return env as Record<string, unknown>;
}

/**
 * Writes `vars` into the env block. With the record of an earlier merge, a key whose value is
 * still ours keeps its original `previous`; a key the user changed meanwhile counts as theirs.
 */
export function mergeClaudeSettings(
  text: string,
  vars: Record<string, string>,
  earlier?: WrittenRecord,
): { text: string; written: WrittenRecord; changed: boolean } {
  const obj = parse(text);
  let env = envOf(obj);
  const createdEnv = earlier?.createdEnv ?? env === undefined;
  if (!env) env = obj.env = {};
  const entries: Record<string, WrittenEntry> = {};
  let changed = false;
  for (const [k, value] of Object.entries(vars)) {
    const current = env[k];
    const mine = earlier?.entries[k];
    let previous: unknown;
    if (mine && current === mine.value) previous = mine.previous;
    else if (current !== undefined) previous = current;
    entries[k] = previous === undefined ? { value } : { value, previous };
    if (current !== value) {
      env[k] = value;
      changed = true;
    }
  }
  // Keys we wrote earlier but no longer want (e.g. prompts logging turned off).
  for (const [k, mine] of Object.entries(earlier?.entries ?? {})) {
    if (k in vars || env[k] !== mine.value) continue;
    if (mine.previous !== undefined) env[k] = mine.previous;
    else delete env[k];
    changed = true;
  }
  return { text: changed ? serialize(obj, text) : text, written: { entries, createdEnv }, changed };
}

/**
 * Removes what we wrote: a key goes back to its previous value (or away) only if it still holds
 * our value. `empty` says the file now holds nothing at all (the caller may delete a file it created).
 */
export function unmergeClaudeSettings(text: string, written: WrittenRecord): { text: string; changed: boolean; empty: boolean } {
  const obj = parse(text);
  const env = envOf(obj);
  let changed = false;
  if (env) {
    for (const [k, mine] of Object.entries(written.entries)) {
      if (env[k] !== mine.value) continue;
      if (mine.previous !== undefined) env[k] = mine.previous;
      else delete env[k];
      changed = true;
    }
    if (written.createdEnv && Object.keys(env).length === 0) {
      delete obj.env;
      changed = true;
    }
  }
  return { text: changed ? serialize(obj, text) : text, changed, empty: Object.keys(obj).length === 0 };
}
