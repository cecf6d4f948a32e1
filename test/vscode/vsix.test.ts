// The packaged extension, as a user gets it: `npm run package` builds the .vsix, code-server installs it with
// --install-extension, and it activates (status bar item, palette commands). Its first Start fetches the chDB engine
// from the real npm registry. The one fault that cannot be caused for real — a tarball altered in transit — comes
// from a pass-through in front of the registry that flips one byte of the first tarball while asked to; the
// extension must reject it with a clear message and install nothing, then succeed once the bytes are intact.
import { after, before, describe, test } from 'node:test';
import assert from 'node:assert/strict';
import { execFileSync } from 'node:child_process';
import { existsSync, mkdtempSync, readdirSync, readFileSync, rmSync, statSync, writeFileSync } from 'node:fs';
import { createServer, type Server } from 'node:http';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { launchVSCode, repoRoot, type VSCode } from '../support/codeserver';
import { freePort } from '../support/ports';
import {
  clickNotificationButton, dismissNotifications, hasCommand, runCommand, statusBarItem, waitForNotification,
  waitForStatusBarText,
} from '../support/vscode-ui';

const STATUS = 'chapterTelemetry.status';
const upstream = (process.env.npm_config_registry ?? 'https://registry.npmjs.org').replace(/\/+$/, '');
const root = mkdtempSync(join(tmpdir(), 'ct-vsix-'));
const vsixPath = join(root, 'chapter-telemetry.vsix');
const workspace = join(root, 'ws');

interface Relay { url: string; corrupt: boolean; tarballs: string[]; corrupted: string[]; server: Server }

/** Forwards GETs to the npm registry, pointing tarball URLs back at itself; can flip a byte of the next tarball. */
async function startRelay(): Promise<Relay> {
  const port = await freePort();
  const url = `http://127.0.0.1:${port}`;
  const relay: Relay = { url, corrupt: false, tarballs: [], corrupted: [], server: undefined as unknown as Server };
  relay.server = createServer((req, res) => {
    void (async () => {
      const path = req.url ?? '/';
      const up = await fetch(`${upstream}${path}`, { headers: { accept: String(req.headers.accept ?? '*/*') } });
      const body = Buffer.from(await up.arrayBuffer());
      if (path.includes('/-/')) {
        relay.tarballs.push(path);
        if (relay.corrupt && up.ok) {
          relay.corrupt = false;
          relay.corrupted.push(path);
          body[Math.floor(body.length / 2)]! ^= 0xff;
        }
        res.writeHead(up.status, { 'content-type': 'application/octet-stream', 'content-length': body.length });
        res.end(body);
      } else {
        const text = body.toString('utf8').split(`${upstream}/`).join(`${url}/`);
        res.writeHead(up.status, { 'content-type': up.headers.get('content-type') ?? 'application/json' });
        res.end(text);
      }
    })().catch((e: Error) => {
      res.writeHead(502).end(`relay: ${e.message}`);
    });
  });
  await new Promise<void>((r) => relay.server.listen(port, '127.0.0.1', r));
  return relay;
}

function engineInstalls(vs: VSCode): string[] {
  const base = join(vs.userDataDir, 'User', 'globalStorage');
  const found: string[] = [];
  for (const ext of existsSync(base) ? readdirSync(base) : []) {
    const engine = join(base, ext, 'engine');
    if (!existsSync(engine)) continue;
    for (const v of readdirSync(engine)) if (existsSync(join(engine, v, 'complete.json'))) found.push(join(engine, v));
  }
  return found;
}

function serverPid(vs: VSCode): number | undefined {
  const base = join(vs.userDataDir, 'User', 'globalStorage');
  for (const ext of existsSync(base) ? readdirSync(base) : []) {
    const f = join(base, ext, 'server.json');
    if (existsSync(f)) return (JSON.parse(readFileSync(f, 'utf8')) as { pid: number }).pid;
  }
  return undefined;
}

describe('the packaged .vsix in code-server', () => {
  let vs: VSCode | undefined;
  let relay: Relay | undefined;
  let pid: number | undefined;

  before(async () => {
    execFileSync(process.execPath, [join(repoRoot, 'scripts', 'package.mjs'), '--out', vsixPath], { cwd: repoRoot, stdio: 'inherit' });
    execFileSync('mkdir', ['-p', workspace]);
    writeFileSync(join(workspace, 'README.md'), '# a book\n');
    relay = await startRelay();
  });

  after(async () => {
    if (vs) pid = serverPid(vs) ?? pid;
    await vs?.close();
    // The server is detached by design: end the one this test's extension started, by its pid.
    if (pid) {
      try {
        process.kill(pid, 'SIGTERM');
      } catch {
        // already stopped
      }
    }
    await new Promise((r) => relay?.server.close(r));
    rmSync(root, { recursive: true, force: true });
  });

  test('is small, and holds the bundles but no engine and no node_modules', () => {
    const size = statSync(vsixPath).size;
    const listing = execFileSync('unzip', ['-l', vsixPath], { encoding: 'utf8' });
    writeFileSync(join(repoRoot, '.test-artifacts', 'vscode', 'vsix-contents.txt'), `${size} bytes\n${listing}`);
    assert.ok(size < 5 * 1024 * 1024, `the .vsix is ${size} bytes`);
    // engine-pins.json: what a first Start may download (name, version, sha512); without it nothing is fetched.
    for (const f of ['extension/package.json', 'extension/dist/extension.js', 'extension/dist/server.js', 'extension/dist/webview/sidebar.js', 'extension/dist/engine-pins.json',
      'extension/telemetry-server/clickhouse/migrations/0001_raw_otel_tables.sql']) {
      assert.match(listing, new RegExp(`\\s${f.replace(/[.]/g, '\\.')}\\n`), `${f} is in the .vsix`);
    }
    assert.doesNotMatch(listing, /node_modules|\.map\n|chdb|\.node\n|standins/);
  });

  test('installs with --install-extension and activates: status bar item and commands', async () => {
    const ports = { grpc: await freePort(), otlpHttp: await freePort(), http: await freePort() };
    vs = await launchVSCode({
      workspace,
      installExtensions: [vsixPath],
      name: 'vsix',
      env: { npm_config_registry: relay!.url },
      settings: {
        'chapterTelemetry.grpcPort': ports.grpc,
        'chapterTelemetry.otlpHttpPort': ports.otlpHttp,
        'chapterTelemetry.httpPort': ports.http,
      },
    });
    assert.ok(readdirSync(vs.extensionsDir).some((d) => d.startsWith('chapter-telemetry.chapter-telemetry-')), 'installed into the extensions dir');
    await waitForStatusBarText(vs.page, STATUS, /Telemetry Off/);
    assert.equal(await hasCommand(vs.page, 'Chapter Telemetry: Start Collection'), true);
    await runCommand(vs.page, 'Chapter Telemetry: Verify Collection');
    assert.match(await waitForNotification(vs.page, /Chapter Telemetry:/), /not running/);
    await vs.screenshot('01-installed');
  });

  test('first Start: a corrupted engine download is rejected with a clear message and nothing is installed', async () => {
    assert.ok(vs, 'needs the installed extension');
    const page = vs.page;
    await dismissNotifications(page);
    relay!.corrupt = true;
    await statusBarItem(page, STATUS).click();
    const msg = await waitForNotification(page, /corrupt/i, 120_000);
    await waitForStatusBarText(page, STATUS, /Telemetry Error/);
    await vs.screenshot('02-corrupt-download');
    assert.equal(relay!.corrupted.length, 1, 'one tarball was altered');
    assert.match(msg, /sha512|integrity/);
    assert.match(msg, /Nothing was installed/);
    assert.deepEqual(engineInstalls(vs), []);
  });

  test('Restart with intact downloads fetches the engine from the npm registry and collection turns On', async () => {
    assert.ok(vs, 'needs the installed extension');
    const page = vs.page;
    const before = relay!.tarballs.length;
    await clickNotificationButton(page, /corrupt/i, 'Restart');
    await waitForStatusBarText(page, STATUS, /^Telemetry( · .+)?$/, 600_000);
    await vs.screenshot('03-engine-fetched-on');
    const fetched = relay!.tarballs.slice(before);
    assert.ok(fetched.some((p) => p.startsWith('/chdb/-/')), `chdb tarball fetched: ${fetched.join(', ')}`);
    assert.ok(fetched.some((p) => p.startsWith('/@chdb/lib-')), `engine library tarball fetched: ${fetched.join(', ')}`);
    assert.equal(engineInstalls(vs).length, 1);
    pid = serverPid(vs);
    await runCommand(page, 'Chapter Telemetry: Verify Collection');
    assert.match(await waitForNotification(page, /Chapter Telemetry:/), /nothing has arrived yet/);
    await statusBarItem(page, STATUS).click();
    await waitForStatusBarText(page, STATUS, /Telemetry Off/, 60_000);
  });
});
