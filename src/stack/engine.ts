/**
 * The chDB engine (~180 MB) is not inside the .vsix. It is found (a setting, node_modules next to
 * the extension in development, or an earlier download in global storage) or fetched from the npm
 * registry: the tarballs of chdb, its runtime dependencies and the platform's @chdb/lib package,
 * each checked against the registry's sha512 integrity before it is unpacked.
 */
import { createHash } from 'node:crypto';
import { createWriteStream, existsSync, mkdirSync, readFileSync, renameSync, rmSync, writeFileSync } from 'node:fs';
import { join } from 'node:path';
import { Readable } from 'node:stream';
import { pipeline } from 'node:stream/promises';
import { maxSatisfying } from './semver-lite';
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

/** Packages whose own `dependencies` are only needed to build, never at run time. */
const BUILD_ONLY = new Set(['node-addon-api', 'node-gyp-build']);

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

export interface VersionMeta {
  name: string;
  version: string;
  dependencies?: Record<string, string>;
  optionalDependencies?: Record<string, string>;
  dist: { tarball: string; integrity?: string; unpackedSize?: number };
}

export interface FetchOptions {
  storageDir: string;
  chdbVersion: string;
  registry?: string;
  platform?: string;
  arch?: string;
  glibc?: boolean;
  onProgress?: (p: ProgressReport) => void;
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

/** Exact version metadata for `name@range` from the registry's package document. */
export async function resolvePackage(registry: string, name: string, range: string, signal?: AbortSignal): Promise<VersionMeta> {
  const doc = (await getJson(`${registry.replace(/\/+$/, '')}/${name.replace('/', '%2F')}`, signal)) as { versions?: Record<string, VersionMeta> };
  const versions = doc.versions ?? {};
  const v = maxSatisfying(Object.keys(versions), range);
  if (!v) throw new StackError('engine-missing', `The npm registry has no ${name} matching ${range}.`, 'Update the extension, or set chapterTelemetry.enginePath to an existing chdb install.');
  return versions[v]!;
}

/** The packages to unpack: chdb, its run-time dependencies (transitively), and the platform library. */
export async function planEngine(registry: string, chdbVersion: string, libPackage: string, signal?: AbortSignal): Promise<VersionMeta[]> {
  const chdb = await resolvePackage(registry, 'chdb', chdbVersion, signal);
  const libRange = chdb.optionalDependencies?.[libPackage];
  if (!libRange) throw new StackError('unsupported-platform', `chdb ${chdb.version} has no engine package ${libPackage}.`, 'Set chapterTelemetry.mode to "docker".');
  const plan = new Map<string, VersionMeta>([['chdb', chdb]]);
  const queue = Object.entries(chdb.dependencies ?? {});
  while (queue.length) {
    const [name, range] = queue.shift()!;
    if (plan.has(name) || BUILD_ONLY.has(name)) continue;
    const meta = await resolvePackage(registry, name, range, signal);
    plan.set(name, meta);
    queue.push(...Object.entries(meta.dependencies ?? {}));
  }
  plan.set(libPackage, await resolvePackage(registry, libPackage, libRange, signal));
  return [...plan.values()];
}

/** `sha512-<base64>` (npm's SRI form) of a file, checked while it downloads. */
export function integrityMatches(expected: string, actualSha512Base64: string): boolean {
  return expected.split(/\s+/).some((e) => e.startsWith('sha512-') && e.slice(7) === actualSha512Base64);
}

async function download(meta: VersionMeta, file: string, report: (bytes: number) => void, signal?: AbortSignal): Promise<void> {
  let res: Response;
  try {
    res = await fetch(meta.dist.tarball, { signal });
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
  const want = meta.dist.integrity;
  if (!want || !integrityMatches(want, got)) {
    throw new StackError('engine-failed', `The downloaded ${meta.name}@${meta.version} is corrupt: its sha512 does not match the registry's integrity${want ? '' : ' (the registry gave none)'}.`, 'Nothing was installed. Restart to download it again; if it keeps failing, a proxy may be altering downloads — set chapterTelemetry.enginePath to an existing chdb install instead.', `expected ${want ?? '(none)'}\ngot sha512-${got}`);
  }
}

/** Downloads, verifies and unpacks the engine into `<storage>/engine/<version>/node_modules`; atomic. */
export async function fetchEngine(o: FetchOptions): Promise<EngineLocation> {
  const platform = o.platform ?? process.platform;
  const arch = o.arch ?? process.arch;
  const lib = libPackageFor(platform, arch, o.glibc ?? hasGlibc());
  if (!lib) throw unsupportedPlatformError(platform, arch);
  const registry = o.registry ?? process.env.npm_config_registry ?? DEFAULT_REGISTRY;
  o.onProgress?.({ message: 'Looking up the ClickHouse engine on the npm registry…', percent: 0 });
  const plan = await planEngine(registry, o.chdbVersion, lib, o.signal);

  const final = engineDir(o.storageDir, o.chdbVersion);
  await installPlan(plan, final, registry, o.onProgress, o.signal);
  o.onProgress?.({ message: 'The ClickHouse engine is ready.', percent: 100 });
  return { nodeModules: join(final, 'node_modules'), source: 'downloaded' };
}


/** Downloads, verifies and unpacks `plan` into `<final>/node_modules`, via a staging folder renamed at the end. */
export async function installPlan(plan: VersionMeta[], final: string, registry: string, onProgress?: (p: ProgressReport) => void, signal?: AbortSignal): Promise<void> {
  const o = { onProgress, signal };
  const staging = `${final}.staging-${process.pid}-${Date.now()}`;
  const tmp = join(staging, 'download');
  mkdirSync(tmp, { recursive: true });
  try {
    let done = 0;
    for (const [i, meta] of plan.entries()) {
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
    writeFileSync(join(staging, 'complete.json'), JSON.stringify({ registry, packages: plan.map((m) => `${m.name}@${m.version}`), at: new Date().toISOString() }, null, 2));
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
