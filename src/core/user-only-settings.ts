/**
 * Settings a cloned repository must not decide (docs/SECURITY.md): the programs the extension
 * runs, the folders and images it uses, where telemetry goes and what is recorded. Their value
 * comes from the author's own settings (user level) or the default; a value found only in
 * workspace or folder settings is ignored and reported once. Pure: the vscode layer feeds it
 * what `WorkspaceConfiguration.inspect()` returns.
 */

/** Keys under `chapterTelemetry.`; package.json gives each `"scope": "application"`. */
export const USER_ONLY_SETTINGS = [
  'host',
  'grpcPort',
  'otlpHttpPort',
  'httpPort',
  'endpoint',
  'logUserPrompts',
  'serverNodePath',
  'enginePath',
  'dataDir',
  'docker.clickhouseImage',
  'docker.collectorImage',
  'docker.projectName',
  // Retention deletes data: a cloned repository must not shorten it.
  'retention.rawDays',
  'retention.sessionDays',
  // Where telemetry goes beyond this machine and what leaves it (Centralize Telemetry).
  'team.endpoint',
  'team.privacy',
] as const;

export type UserOnlySetting = (typeof USER_ONLY_SETTINGS)[number];

/** The parts of `inspect()` that matter here (language-specific values count as workspace ones). */
export interface InspectedValue<T> {
  defaultValue?: T;
  globalValue?: T;
  workspaceValue?: T;
  workspaceFolderValue?: T;
  workspaceLanguageValue?: T;
  workspaceFolderLanguageValue?: T;
  globalLanguageValue?: T;
}

/** The user's own value (or the default), and whether a workspace tried to set something else. */
export function userOnlyValue<T>(i: InspectedValue<T> | undefined): { value: T | undefined; ignoredWorkspaceValue: boolean } {
  if (!i) return { value: undefined, ignoredWorkspaceValue: false };
  const value = i.globalLanguageValue ?? i.globalValue ?? i.defaultValue;
  const fromWorkspace = [i.workspaceValue, i.workspaceFolderValue, i.workspaceLanguageValue, i.workspaceFolderLanguageValue]
    .filter((v) => v !== undefined);
  const ignoredWorkspaceValue = fromWorkspace.some((v) => JSON.stringify(v) !== JSON.stringify(value));
  return { value, ignoredWorkspaceValue };
}

/** The one-time message for the settings a workspace tried to set; undefined when there are none. */
export function ignoredSettingsMessage(keys: readonly string[]): string | undefined {
  if (keys.length === 0) return undefined;
  const names = keys.map((k) => `chapterTelemetry.${k}`).join(', ');
  return `Chapter Telemetry ignored ${names} from this folder's workspace settings: a cloned repository must not choose the programs the extension runs, where telemetry goes or what it records. Set ${keys.length === 1 ? 'it' : 'them'} in your user settings if you want ${keys.length === 1 ? 'that value' : 'those values'}.`;
}

/**
 * Which user-only settings a parsed settings object sets: flat keys (`"chapterTelemetry.endpoint"`),
 * nested objects (`"chapterTelemetry": {"endpoint": …}`) and language blocks (`"[markdown]": {…}`).
 */
export function userOnlyKeysIn(settings: unknown): UserOnlySetting[] {
  const keys = new Set<string>();
  const walk = (v: unknown, prefix: string) => {
    if (typeof v !== 'object' || v === null || Array.isArray(v)) {
      if (prefix) keys.add(prefix);
      return;
    }
    for (const [k, child] of Object.entries(v)) {
      const key = /^\[.*\]$/.test(k) ? '' : k;
      const path = prefix && key ? `${prefix}.${key}` : prefix || key;
      walk(child, path);
      if (path) keys.add(path);
    }
  };
  walk(settings, '');
  return USER_ONLY_SETTINGS.filter((k) => keys.has(`chapterTelemetry.${k}`));
}
