// A real VS Code for tests: code-server (installed by scripts/setup/30-code-server.sh) driven by Debian's headless
// Chromium through playwright-core. One code-server per launch, with fresh user-data and extensions dirs, so tests
// never see a developer's own VS Code state.
import { execFileSync, spawn, spawnSync, type ChildProcess } from 'node:child_process';
import { existsSync, mkdirSync, mkdtempSync, readdirSync, readFileSync, rmSync, statSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { delimiter, join, resolve } from 'node:path';
import { format } from 'node:util';
import { chromium, type BrowserContext, type Page } from 'playwright-core';
import { freePort } from './ports';

export const repoRoot = resolve(__dirname, '..', '..');
export const artifactsDir = join(repoRoot, '.test-artifacts', 'vscode');

/** Builds the extension, the server and the suite bundle (dist/) from this checkout, as a window will load them. */
export function buildCheckout(): void {
  execFileSync('npm', ['run', 'build', '--silent'], { cwd: repoRoot, stdio: 'inherit' });
}
const codeServerDir = process.env.CT_CODE_SERVER_DIR ?? join(repoRoot, '.cache', 'code-server');
export const codeServerBin = join(codeServerDir, 'node_modules', '.bin', 'code-server');
export const chromiumBin = process.env.CT_CHROMIUM ?? '/usr/bin/chromium';

export interface LaunchOptions {
  /** Folder opened in the window. */
  workspace: string;
  /** Folder of an extension under development (loaded through the workbench URL's payload). */
  extensionDevelopmentPath?: string;
  /** A mocha entry (`run()` export) the extension host runs; collect its result with `runTests()`. */
  extensionTestsPath?: string;
  /** User settings, on top of the harness defaults. */
  settings?: Record<string, unknown>;
  /** Extra environment for code-server; it reaches the extension host and the integrated terminals. */
  env?: Record<string, string>;
  /** `.vsix` files installed into the fresh extensions dir before start. */
  installExtensions?: string[];
  /** Prefix of screenshots and logs under `.test-artifacts/vscode/`. */
  name?: string;
}

export interface TestRunResult {
  exitCode: number;
  /** Everything the extension host and workbench logged during the run (mocha's reporter output included). */
  log: string;
}

export interface VSCode {
  page: Page;
  context: BrowserContext;
  /** http://127.0.0.1:<port>/ */
  baseUrl: string;
  /** The workbench URL of the first window (folder + payload). */
  workbenchUrl: string;
  userDataDir: string;
  extensionsDir: string;
  /** HOME of code-server, its extension hosts and terminals (fresh, empty). */
  home: string;
  /** Waits for `codeAutomationExit` (sent when the extension host's tests finish). */
  runTests(timeoutMs?: number): Promise<TestRunResult>;
  /** Opens another window (a new tab = a new workbench and extension host) on `folder` (default: same). */
  openWindow(folder?: string): Promise<Page>;
  /** Saves `.test-artifacts/vscode/<name>-<shot>.png` and returns its path. */
  screenshot(shot: string, page?: Page): Promise<string>;
  /** code-server's own output plus the browser console so far. */
  output(): string;
  close(): Promise<void>;
}

const defaultSettings: Record<string, unknown> = {
  // The Welcome page and walkthroughs steal focus from the editor and the status bar.
  'workbench.startupEditor': 'none',
  'workbench.welcomePage.walkthroughs.openOnInstall': false,
  'workbench.tips.enabled': false,
  'security.workspace.trust.enabled': false,
  'extensions.ignoreRecommendations': true,
  'extensions.autoCheckUpdates': false,
  'extensions.autoUpdate': false,
  'update.mode': 'none',
  'telemetry.telemetryLevel': 'off',
  'workbench.enableExperiments': false,
  'git.enabled': false,
  // The DOM renderer keeps terminal text in `.xterm-rows`, where tests can read it.
  'terminal.integrated.gpuAcceleration': 'off',
  // A plain bash: no /etc/profile (it resets PATH for root) and no rc files, so terminals see exactly the env given.
  'terminal.integrated.profiles.linux': { 'ct-bash': { path: '/bin/bash', args: ['--noprofile', '--norc'] } },
  'terminal.integrated.defaultProfile.linux': 'ct-bash',
  'terminal.integrated.enablePersistentSessions': false,
  'window.restoreWindows': 'none',
};

/** The CLI's name for files inside this VS Code: the workbench runs with the `vscode-remote://remote` authority. */
export function remoteUri(absPath: string): string {
  return `vscode-remote://remote${absPath}`;
}

function assertInstalled(): void {
  if (!existsSync(codeServerBin)) {
    throw new Error(`code-server is not installed at ${codeServerBin}: run CT_TEST_TIERS=vscode bash scripts/setup/30-code-server.sh`);
  }
  if (!existsSync(chromiumBin)) {
    throw new Error(`Chromium not found at ${chromiumBin}: run apt-get install -y chromium (scripts/setup/30-code-server.sh does)`);
  }
}

/** `code-server --install-extension` into `extensionsDir`; throws with code-server's output on failure. */
export function installExtension(vsix: string, extensionsDir: string): string {
  const r = spawnSync(codeServerBin, ['--install-extension', vsix, '--extensions-dir', extensionsDir, '--force'], {
    encoding: 'utf8',
    timeout: 120_000,
  });
  const out = `${r.stdout ?? ''}${r.stderr ?? ''}`;
  if (r.status !== 0) throw new Error(`code-server --install-extension ${vsix} failed (${r.status}):\n${out}`);
  return out;
}

async function waitForHealth(url: string, proc: ChildProcess, output: () => string, timeoutMs: number): Promise<void> {
  const deadline = Date.now() + timeoutMs;
  for (;;) {
    if (proc.exitCode !== null) throw new Error(`code-server exited with ${proc.exitCode} before it was healthy:\n${output()}`);
    try {
      const res = await fetch(`${url}healthz`);
      if (res.ok) return;
    } catch {
      // not listening yet
    }
    if (Date.now() > deadline) throw new Error(`code-server did not answer /healthz in ${timeoutMs} ms:\n${output()}`);
    await new Promise((r) => setTimeout(r, 100));
  }
}

/** Waits until the workbench has rendered its status bar, then clears whatever popped up over it. */
export async function waitForWorkbench(page: Page, timeoutMs = 60_000): Promise<void> {
  await page.locator('.monaco-workbench').waitFor({ state: 'visible', timeout: timeoutMs });
  await page.locator('#workbench\\.parts\\.statusbar').waitFor({ state: 'visible', timeout: timeoutMs });
  await page.keyboard.press('Escape');
}

export async function launchVSCode(opts: LaunchOptions): Promise<VSCode> {
  assertInstalled();
  mkdirSync(artifactsDir, { recursive: true });
  const name = opts.name ?? 'vscode';
  const root = mkdtempSync(join(tmpdir(), 'ct-code-server-'));
  const userDataDir = join(root, 'user-data');
  // A fresh HOME keeps the developer's dotfiles (PATH rewrites in ~/.bashrc) and ~/.claude out of the terminals.
  const home = join(root, 'home');
  const extensionsDir = join(root, 'extensions');
  const browserDir = join(root, 'chromium');
  mkdirSync(join(userDataDir, 'User'), { recursive: true });
  mkdirSync(extensionsDir, { recursive: true });
  mkdirSync(home, { recursive: true });
  writeFileSync(join(userDataDir, 'User', 'settings.json'), JSON.stringify({ ...defaultSettings, ...opts.settings }, null, 2));
  const config = join(root, 'config.yaml');
  writeFileSync(config, 'auth: none\ncert: false\n');
  for (const vsix of opts.installExtensions ?? []) installExtension(vsix, extensionsDir);

  const port = await freePort();
  const baseUrl = `http://127.0.0.1:${port}/`;
  // node_modules/.bin first on PATH: terminals inside this VS Code then run the pinned `claude`.
  const env: NodeJS.ProcessEnv = {
    ...process.env,
    PATH: [join(repoRoot, 'node_modules', '.bin'), process.env.PATH ?? ''].join(delimiter),
    SHELL: '/bin/bash',
    HOME: home,
    // Without this the server resolves a login shell's env (root's /etc/profile resets PATH) over the one given here.
    VSCODE_CLI: '1',
    ...opts.env,
  };
  delete env.VSCODE_IPC_HOOK_CLI;
  const args = [
    '--auth', 'none',
    '--bind-addr', `127.0.0.1:${port}`,
    '--disable-telemetry',
    '--disable-update-check',
    '--disable-workspace-trust',
    '--disable-getting-started-override',
    '--user-data-dir', userDataDir,
    '--extensions-dir', extensionsDir,
    '--config', config,
    opts.workspace,
  ];
  // Own process group, so close() ends code-server together with its extension hosts and pty hosts.
  const proc = spawn(codeServerBin, args, { env, detached: true, stdio: ['ignore', 'pipe', 'pipe'] });
  let out = '';
  proc.stdout!.on('data', (d) => (out += d));
  proc.stderr!.on('data', (d) => (out += d));
  const exited = new Promise<void>((r) => proc.once('exit', () => r()));

  let context: BrowserContext | undefined;
  const killServer = async (): Promise<void> => {
    if (proc.exitCode === null && proc.signalCode === null && proc.pid) {
      try {
        process.kill(-proc.pid, 'SIGTERM');
      } catch {
        // already gone
      }
      const forced = setTimeout(() => {
        try {
          process.kill(-proc.pid!, 'SIGKILL');
        } catch {
          // already gone
        }
      }, 5000);
      await exited;
      clearTimeout(forced);
    }
  };

  try {
    await waitForHealth(baseUrl, proc, () => out, 60_000);
    context = await chromium.launchPersistentContext(browserDir, {
      executablePath: chromiumBin,
      headless: true,
      viewport: { width: 1400, height: 900 },
      args: ['--no-sandbox', '--disable-gpu', '--disable-quic', '--no-first-run', '--disable-background-networking',
        '--disable-component-update', '--disable-sync', '--disable-dev-shm-usage'],
    });
  } catch (e) {
    await killServer();
    rmSync(root, { recursive: true, force: true });
    throw e;
  }
  const ctx = context;

  // The test run's result arrives through these two functions, called by the workbench when extensionTestsPath is set.
  const runLog: string[] = [];
  let exitResolve: (code: number) => void = () => {};
  const exitPromise = new Promise<number>((r) => (exitResolve = r));
  await ctx.exposeFunction('codeAutomationLog', (level: unknown, message: unknown) => {
    // The workbench forwards console calls as printf-style argument lists (mocha's reporter uses %s/%d).
    runLog.push(Array.isArray(message) ? format(...(message as unknown[])) : `[${String(level)}] ${String(message)}`);
  });
  await ctx.exposeFunction('codeAutomationExit', (code: unknown) => exitResolve(Number(code)));

  const payload: [string, string][] = [];
  if (opts.extensionDevelopmentPath) payload.push(['extensionDevelopmentPath', remoteUri(resolve(opts.extensionDevelopmentPath))]);
  if (opts.extensionTestsPath) payload.push(['extensionTestsPath', remoteUri(resolve(opts.extensionTestsPath))]);
  const urlFor = (folder: string): string => {
    const u = new URL(baseUrl);
    u.searchParams.set('folder', folder);
    if (payload.length) u.searchParams.set('payload', JSON.stringify(payload));
    return u.toString();
  };
  const workbenchUrl = urlFor(opts.workspace);

  let consoleText = '';
  const watchPage = (p: Page): void => {
    p.on('console', (m) => {
      consoleText += `[console.${m.type()}] ${m.text()}\n`;
    });
    p.on('pageerror', (e) => (consoleText += `[pageerror] ${e.message}\n`));
  };

  const page = ctx.pages()[0] ?? (await ctx.newPage());
  watchPage(page);
  ctx.on('page', watchPage);

  const shoot = async (shot: string, p: Page = page): Promise<string> => {
    const file = join(artifactsDir, `${name}-${shot}.png`);
    await p.screenshot({ path: file }).catch(() => undefined);
    return file;
  };

  let closed = false;
  const vscode: VSCode = {
    page,
    context: ctx,
    baseUrl,
    workbenchUrl,
    userDataDir,
    extensionsDir,
    home,
    async runTests(timeoutMs = 300_000) {
      let timer: NodeJS.Timeout | undefined;
      const timeout = new Promise<number>((_, rej) => {
        timer = setTimeout(() => rej(new Error(`extension tests did not finish in ${timeoutMs} ms:\n${runLog.join('\n')}`)), timeoutMs);
      });
      try {
        const exitCode = await Promise.race([exitPromise, timeout]);
        return { exitCode, log: runLog.join('\n') };
      } finally {
        clearTimeout(timer);
      }
    },
    async openWindow(folder = opts.workspace) {
      const p = await ctx.newPage();
      await p.goto(urlFor(folder));
      await waitForWorkbench(p);
      return p;
    },
    screenshot: shoot,
    output: () => `${out}\n--- browser console ---\n${consoleText}`,
    async close() {
      if (closed) return;
      closed = true;
      writeFileSync(join(artifactsDir, `${name}-output.log`), vscode.output());
      await ctx.close().catch(() => undefined);
      await killServer();
      // The extension's embedded server is detached on purpose (it outlives a window): stop it before its state
      // file goes with the user-data dir, or it runs on for the rest of the test run.
      killStackServers(userDataDir);
      rmSync(root, { recursive: true, force: true });
    },
  };

  try {
    await page.goto(workbenchUrl);
    // A tests run may finish (and close the window's host) before the workbench is fully up: don't wait for it then.
    if (!opts.extensionTestsPath) await waitForWorkbench(page);
  } catch (e) {
    await shoot('launch-failed');
    await vscode.close();
    throw e;
  }
  return vscode;
}

/** Every `server.json` (the embedded server's state file) under `dir`; unreadable entries skipped. */
function stateFiles(dir: string): string[] {
  return (existsSync(dir) ? readdirSync(dir) : []).flatMap((n) => {
    const p = join(dir, n);
    try {
      return statSync(p).isDirectory() ? stateFiles(p) : n === 'server.json' ? [p] : [];
    } catch {
      return [];
    }
  });
}

/** SIGTERMs every embedded server whose state file is under `userDataDir` (those the extension started). */
export function killStackServers(userDataDir: string): void {
  for (const f of stateFiles(userDataDir)) {
    try {
      process.kill((JSON.parse(readFileSync(f, 'utf8')) as { pid: number }).pid, 'SIGTERM');
    } catch {
      // gone already
    }
  }
}
