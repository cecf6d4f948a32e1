/**
 * The chDB engine (~180 MB) is not inside the .vsix. It is found (a setting, node_modules next to
 * the extension in development, or an earlier download in global storage) or fetched from the npm
 * registry: the tarballs of chdb, its runtime dependencies and the platform's @chdb/lib package.
 * What may be installed is fixed at build time (dist/engine-pins.json: name, exact version, sha512
 * from package-lock.json); the registry only says where the tarballs are, and any answer that
 * names another package or version, or bytes with another hash, is refused before unpacking.
 */
import { createHash } from 'node:crypto';
import { createWriteStream, existsSync, mkdirSync, readFileSync, renameSync, rmSync, writeFileSync } from 'node:fs';
import { join } from 'node:path';
import { Readable } from 'node:stream';
import { pipeline } from 'node:stream/promises';
import { extractTgz, TarError } from './tar-extract';
import { StackError, type ProgressReport } from './types';

export const DEFAULT_REGISTRY = 'https://registry.npmjs.org';

/** The platform package chDB loads (mirrors chdb's own loader); undefined = no engine for this platform. */
export function libPackageFor(platform: string, arch: string, glibc: boolean): string | undefined {
  if (platform === 'darwin' && (arch === 'arm64' || arch === 'x64')) return `@chdb/lib-darwin-${arch}`;
  if (platform === 'linux' && glibc && (arch === 'x64' || arch === 'arm64')) return `@chdb/lib-linux-${arch}-gnu`;
  return undefined;
}

export function hasGlibc(): boolean {
  if (process.platform !== 'linux') return false;
  const report = process.report?.getReport() as { header?: { glibcVersionRuntime?: string } } | undefined;
  return Boolean(report?.header?.glibcVersionRuntime);
}

export function unsupportedPlatformError(platform: string, arch: string): StackError {
  const where = platform === 'win32' ? 'Windows (outside WSL)' : `${platform}/${arch}${platform === 'linux' ? ' without glibc' : ''}`;
  return new StackError('unsupported-platform', `The embedded ClickHouse engine (chDB) does not run on ${where}.`, 'Set chapterTelemetry.mode to "docker" (Docker Desktop), or open the folder in WSL or a Linux/macOS machine.');
}

export interface LocateOptions {
  /** chapterTelemetry.enginePath: a folder holding chdb (or its node_modules). */
  settingPath?: string;
  extensionRoot: string;
  storageDir: string;
  chdbVersion: string;
}

export interface EngineLocation {
  /** The node_modules folder holding chdb, for the server's NODE_PATH. */
  nodeModules: string;
  source: 'setting' | 'extension' | 'downloaded';
}

function hasChdb(nodeModules: string): boolean {
  return existsSync(join(nodeModules, 'chdb', 'package.json'));
}

export function engineDir(storageDir: string, chdbVersion: string): string {
  return join(storageDir, 'engine', chdbVersion);
}

/** Where chDB already is, or undefined when it must be fetched. A wrong setting is an error, not a fallback. */
export function locateEngine(o: LocateOptions): EngineLocation | undefined {
  if (o.settingPath) {
    for (const nm of [join(o.settingPath, 'node_modules'), o.settingPath, join(o.settingPath, '..')]) {
      if (hasChdb(nm)) return { nodeModules: nm, source: 'setting' };
    }
    throw new StackError('engine-missing', `chapterTelemetry.enginePath (${o.settingPath}) does not contain chdb.`, 'Point the setting at a folder where `npm install chdb` ran (it holds node_modules/chdb), or clear it to let the extension download the engine.');
  }
  const dev = join(o.extensionRoot, 'node_modules');
  if (hasChdb(dev)) return { nodeModules: dev, source: 'extension' };
  const dl = engineDir(o.storageDir, o.chdbVersion);
  if (existsSync(join(dl, 'complete.json')) && hasChdb(join(dl, 'node_modules'))) return { nodeModules: join(dl, 'node_modules'), source: 'downloaded' };
  return undefined;
}

/** One engine package as pinned at build time (scripts/engine-pins.mjs → dist/engine-pins.json). */
export interface PinnedPackage {
  name: string;
  version: string;
  /** npm SRI (`sha512-…`); absent only for another platform's library (the lock has no hash for it). */
  integrity?: string;
}

export interface EnginePins {
  chdb: string;
  /** chdb first, then its run-time dependencies. */
  packages: PinnedPackage[];
  platformLibs: Record<string, { version: string; integrity?: string }>;
}

/** A pinned package with the tarball location the registry gave; `integrity` is always the pin's when there is one. */
export interface PlannedPackage {
  name: string;
  version: string;
  tarball: string;
  integrity: string;
  /** false: no pin for this hash (another platform's library); checked against the registry's own integrity only. */
  pinned: boolean;
}

/** The pins shipped with this build: dist/engine-pins.json next to the bundle, or the checkout's dist/ under tsx. */
export function loadEnginePins(file?: string): EnginePins {
  const candidates = file ? [file] : [join(__dirname, 'engine-pins.json'), join(__dirname, '..', '..', 'dist', 'engine-pins.json')];
  for (const f of candidates) {
    if (existsSync(f)) return JSON.parse(readFileSync(f, 'utf8')) as EnginePins;
  }
  throw new StackError('engine-missing', 'This build has no engine pins (dist/engine-pins.json), so it cannot check a downloaded engine.', 'Run `npm run build` (it writes the pins from package-lock.json), or set chapterTelemetry.enginePath to an existing chdb install.');
}

export interface FetchOptions {
  storageDir: string;
  chdbVersion: string;
  /** Default: loadEnginePins(). */
  pins?: EnginePins;
  registry?: string;
  platform?: string;
  arch?: string;
  glibc?: boolean;
  onProgress?: (p: ProgressReport) => void;
  /** A line the author should see before the download starts (e.g. no pinned hash for this platform). */
  onNotice?: (line: string) => void;
  signal?: AbortSignal;
}

async function getJson(url: string, signal?: AbortSignal): Promise<unknown> {
  let res: Response;
  try {
    res = await fetch(url, { headers: { accept: 'application/vnd.npm.install-v1+json; q=1.0, application/json; q=0.8' }, signal });
  } catch (e) {
    throw new StackError('engine-missing', `Could not reach the npm registry to download the engine (${(e as Error).message}).`, 'Check the network connection (or proxy) and Restart, or set chapterTelemetry.enginePath to an existing chdb install.');
  }
  if (!res.ok) throw new StackError('engine-missing', `The npm registry answered ${res.status} for ${url}.`, 'Try again later, or set chapterTelemetry.enginePath to an existing chdb install.');
  return await res.json();
}

/** npm package names only: the name becomes a folder under node_modules, so nothing else may pass. */
const PACKAGE_NAME = /^(?:@[a-z0-9][a-z0-9._-]*\/)?[a-z0-9][a-z0-9._-]*$/;

function refused(what: string, detail?: string): StackError {
  return new StackError('engine-failed', `The npm registry's answer for ${what} does not match what this build pinned; nothing was installed.`, 'A registry mirror or proxy may be serving altered packages. Check npm_config_registry, or set chapterTelemetry.enginePath to an existing chdb install.', detail);
}

interface RegistryVersion {
  name?: unknown;
  version?: unknown;
  dist?: { tarball?: unknown; integrity?: unknown };
}

/**
 * The tarball location of exactly `pin.name@pin.version`. The registry document must name that package and
 * version; a pinned integrity must be among the registry's (an early refusal, before any byte is downloaded).
 */
export async function resolvePinned(registry: string, pin: PinnedPackage, signal?: AbortSignal): Promise<PlannedPackage> {
  if (!PACKAGE_NAME.test(pin.name)) throw refused(pin.name, 'not an npm package name');
  const doc = (await getJson(`${registry.replace(/\/+$/, '')}/${pin.name.replace('/', '%2F')}`, signal)) as { versions?: Record<string, RegistryVersion> };
  const meta = doc.versions?.[pin.version];
  if (!meta) throw new StackError('engine-missing', `The npm registry has no ${pin.name}@${pin.version}.`, 'Update the extension, or set chapterTelemetry.enginePath to an existing chdb install.');
  if (meta.name !== pin.name || meta.version !== pin.version) throw refused(`${pin.name}@${pin.version}`, `the registry's document names ${String(meta.name)}@${String(meta.version)}`);
  const tarball = meta.dist?.tarball;
  if (typeof tarball !== 'string' || !/^https?:\/\//.test(tarball)) throw refused(`${pin.name}@${pin.version}`, 'no http(s) tarball location');
  const theirs = typeof meta.dist?.integrity === 'string' ? meta.dist.integrity : undefined;
  if (pin.integrity) {
    const ours = pin.integrity.slice('sha512-'.length);
    if (theirs && !integrityMatches(theirs, ours)) throw refused(`${pin.name}@${pin.version}`, `pinned ${pin.integrity}\nregistry ${theirs}`);
    return { name: pin.name, version: pin.version, tarball, integrity: pin.integrity, pinned: true };
  }
  if (!theirs || !/sha512-/.test(theirs)) throw refused(`${pin.name}@${pin.version}`, 'no pinned hash and no sha512 from the registry');
  return { name: pin.name, version: pin.version, tarball, integrity: theirs, pinned: false };
}

/** The packages to unpack: exactly the pinned chdb, its pinned run-time dependencies, and the platform library. */
export async function planEngine(registry: string, pins: EnginePins, libPackage: string, signal?: AbortSignal): Promise<PlannedPackage[]> {
  const lib = pins.platformLibs[libPackage];
  if (!lib) throw new StackError('unsupported-platform', `chdb ${pins.chdb} has no engine package ${libPackage}.`, 'Set chapterTelemetry.mode to "docker".');
  const plan: PlannedPackage[] = [];
  for (const pin of [...pins.packages, { name: libPackage, ...lib }]) plan.push(await resolvePinned(registry, pin, signal));
  return plan;
}

/** `sha512-<base64>` (npm's SRI form) of a file, checked while it downloads. */
export function integrityMatches(expected: string, actualSha512Base64: string): boolean {
  return expected.split(/\s+/).some((e) => e.startsWith('sha512-') && e.slice(7) === actualSha512Base64);
}

async function download(meta: PlannedPackage, file: string, report: (bytes: number) => void, signal?: AbortSignal): Promise<void> {
  let res: Response;
  try {
    res = await fetch(meta.tarball, { signal });
  } catch (e) {
    if (signal?.aborted) throw new StackError('cancelled', 'The engine download was cancelled.', 'Start Collection again to resume.');
    throw new StackError('engine-missing', `Downloading ${meta.name}@${meta.version} failed (${(e as Error).message}).`, 'Check the network connection and Restart.');
  }
  if (!res.ok || !res.body) throw new StackError('engine-missing', `Downloading ${meta.name}@${meta.version} failed: HTTP ${res.status}.`, 'Try again later (Restart).');
  const hash = createHash('sha512');
  const body = Readable.fromWeb(res.body as import('node:stream/web').ReadableStream<Uint8Array>);
  body.on('data', (c: Buffer) => {
    hash.update(c);
    report(c.length);
  });
  try {
    await pipeline(body, createWriteStream(file));
  } catch (e) {
    if (signal?.aborted) throw new StackError('cancelled', 'The engine download was cancelled.', 'Start Collection again to resume.');
    throw new StackError('engine-missing', `Downloading ${meta.name}@${meta.version} broke off (${(e as Error).message}).`, 'Check the network connection and Restart.');
  }
  const got = hash.digest('base64');
  if (!integrityMatches(meta.integrity, got)) {
    const against = meta.pinned ? 'the hash this build pinned' : "the registry's integrity";
    throw new StackError('engine-failed', `The downloaded ${meta.name}@${meta.version} is corrupt: its sha512 does not match ${against}.`, 'Nothing was installed. Restart to download it again; if it keeps failing, a proxy may be altering downloads — set chapterTelemetry.enginePath to an existing chdb install instead.', `expected ${meta.integrity}\ngot sha512-${got}`);
  }
}

/** Downloads, verifies and unpacks the engine into `<storage>/engine/<version>/node_modules`; atomic. */
export async function fetchEngine(o: FetchOptions): Promise<EngineLocation> {
  const platform = o.platform ?? process.platform;
  const arch = o.arch ?? process.arch;
  const lib = libPackageFor(platform, arch, o.glibc ?? hasGlibc());
  if (!lib) throw unsupportedPlatformError(platform, arch);
  const pins = o.pins ?? loadEnginePins();
  if (pins.chdb !== o.chdbVersion) throw new StackError('engine-failed', `This build pinned chdb ${pins.chdb}, not ${o.chdbVersion}.`, 'Rebuild the extension (npm run build) so dist/engine-pins.json matches package.json.');
  const registry = o.registry ?? process.env.npm_config_registry ?? DEFAULT_REGISTRY;
  o.onProgress?.({ message: 'Looking up the ClickHouse engine on the npm registry…', percent: 0 });
  const plan = await planEngine(registry, pins, lib, o.signal);
  for (const p of plan.filter((m) => !m.pinned)) {
    o.onNotice?.(`No pinned hash for ${p.name}@${p.version} in this build (it was built on another platform): the download is checked only against the registry's own sha512.`);
  }

  const final = engineDir(o.storageDir, o.chdbVersion);
  await installPlan(plan, final, registry, o.onProgress, o.signal);
  o.onProgress?.({ message: 'The ClickHouse engine is ready.', percent: 100 });
  return { nodeModules: join(final, 'node_modules'), source: 'downloaded' };
}

/** Downloads, verifies and unpacks `plan` into `<final>/node_modules`, via a staging folder renamed at the end. */
export async function installPlan(plan: PlannedPackage[], final: string, registry: string, onProgress?: (p: ProgressReport) => void, signal?: AbortSignal): Promise<void> {
  const o = { onProgress, signal };
  const staging = `${final}.staging-${process.pid}-${Date.now()}`;
  const tmp = join(staging, 'download');
  mkdirSync(tmp, { recursive: true });
  try {
    let done = 0;
    for (const [i, meta] of plan.entries()) {
      if (!PACKAGE_NAME.test(meta.name)) throw refused(meta.name, 'not an npm package name');
      const file = join(tmp, `${i}.tgz`);
      let got = 0;
      let lastPct = -1;
      await download(meta, file, (n) => {
        got += n;
        const mb = Math.round(got / 1e6);
        if (mb !== lastPct) {
          lastPct = mb;
          o.onProgress?.({ message: `Downloading ${meta.name}@${meta.version}: ${mb} MB`, percent: Math.round((done / plan.length) * 100) });
        }
      }, o.signal);
      o.onProgress?.({ message: `Unpacking ${meta.name}@${meta.version}…`, percent: Math.round(((done + 0.5) / plan.length) * 100) });
      try {
        await extractTgz(file, join(staging, 'node_modules', ...meta.name.split('/')));
      } catch (e) {
        if (e instanceof TarError) throw new StackError('engine-failed', `The downloaded ${meta.name}@${meta.version} could not be unpacked: ${e.message}.`, 'Nothing was installed. Restart to download it again.');
        throw e;
      }
      rmSync(file, { force: true });
      done++;
    }
    rmSync(tmp, { recursive: true, force: true });
    writeFileSync(join(staging, 'complete.json'), JSON.stringify({ registry, packages: plan.map((m) => `${m.name}@${m.version}`), unpinned: plan.filter((m) => !m.pinned).map((m) => m.name), at: new Date().toISOString() }, null, 2));
    rmSync(final, { recursive: true, force: true });
    renameSync(staging, final);
  } catch (e) {
    rmSync(staging, { recursive: true, force: true });
    throw e;
  }
}

/** The chdb version the extension was built against (its package.json). */
export function chdbVersionOf(extensionRoot: string): string {
  const pkg = JSON.parse(readFileSync(join(extensionRoot, 'package.json'), 'utf8')) as { dependencies?: Record<string, string> };
  return pkg.dependencies?.chdb ?? '3.4.0';
}
