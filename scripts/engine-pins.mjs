// The engine packages the extension may download, pinned at build time from package-lock.json:
// name, exact version and sha512 integrity of chdb, each of its run-time dependencies, and the
// platform library. At run time (src/stack/engine.ts) the registry only supplies the tarball
// location; a package whose name, version or hash differs from these pins is refused, so the
// registry (or a proxy) cannot choose what code the embedded server loads.
// The lock holds the platform library of the platform `npm install` ran on; the other platforms'
// libraries are pinned by version (chdb's exact optionalDependencies) without a hash, and the
// download says so before it starts.
import { readFileSync, writeFileSync } from 'node:fs';
import semver from 'semver';

/** Packages whose own `dependencies` are only needed to build, never at run time (no download). */
export const BUILD_ONLY = ['node-addon-api', 'node-gyp-build'];

/** Where npm put `name` as seen from the package at `fromPath` (nested node_modules first). */
function lockEntry(packages, fromPath, name) {
  let dir = fromPath;
  for (;;) {
    const key = `${dir ? `${dir}/` : ''}node_modules/${name}`;
    if (packages[key]) return [key, packages[key]];
    if (!dir) return [undefined, undefined];
    const i = dir.lastIndexOf('/node_modules/');
    dir = i === -1 ? '' : dir.slice(0, i);
  }
}

/** {chdb, packages:[{name,version,integrity}], platformLibs:{name:{version,integrity?}}} from a parsed lock. */
export function enginePinsFromLock(lock) {
  const packages = lock.packages ?? {};
  const chdb = packages['node_modules/chdb'];
  if (!chdb?.integrity) throw new Error('package-lock.json has no node_modules/chdb with an integrity');
  const pinned = [];
  const seen = new Set();
  const queue = [['node_modules/chdb', 'chdb']];
  while (queue.length) {
    const [key, name] = queue.shift();
    if (seen.has(name)) continue;
    seen.add(name);
    const e = packages[key];
    if (!e?.version || !/^sha512-/.test(e.integrity ?? '')) throw new Error(`package-lock.json: ${key} lacks a version or sha512 integrity`);
    pinned.push({ name, version: e.version, integrity: e.integrity });
    for (const [dep, range] of Object.entries(e.dependencies ?? {})) {
      if (BUILD_ONLY.includes(dep) || seen.has(dep)) continue;
      const [depKey, depEntry] = lockEntry(packages, key, dep);
      if (!depKey) throw new Error(`package-lock.json: ${dep} (needed by ${name}) is not installed`);
      // An out-of-sync lock would pin a version the package does not accept: refuse to build with it.
      if (!semver.satisfies(depEntry.version ?? '', range)) throw new Error(`package-lock.json: ${dep}@${depEntry.version} does not satisfy ${name}'s ${range}; run npm install`);
      queue.push([depKey, dep]);
    }
  }
  const platformLibs = {};
  for (const [name, version] of Object.entries(chdb.optionalDependencies ?? {})) {
    if (!name.startsWith('@chdb/lib-')) continue;
    const e = packages[`node_modules/${name}`];
    platformLibs[name] = e?.version === version && /^sha512-/.test(e.integrity ?? '') ? { version, integrity: e.integrity } : { version };
  }
  return { chdb: chdb.version, packages: pinned, platformLibs };
}

export function writeEnginePins(lockFile, outFile) {
  const pins = enginePinsFromLock(JSON.parse(readFileSync(lockFile, 'utf8')));
  writeFileSync(outFile, `${JSON.stringify(pins, null, 2)}\n`);
  return pins;
}
