/**
 * TLS material for a team directory: a private CA and a server certificate signed by it.
 *
 * Made with Debian's `openssl` command (execFile, no shell) rather than an npm library: it is
 * already on every server this runs on, maintained by the distribution's security team, and it
 * writes the private keys itself (`-keyout`/`-out` to files we created 0600 in a 0700 directory)
 * so no key ever passes through a command line, an environment variable or our process memory
 * as text. Nothing is added to the extension's bundle. Keys are unencrypted on disk (the server
 * must start unattended); the directory's permissions are the protection.
 */
import { execFile } from 'node:child_process';
import { chmodSync, closeSync, openSync, readFileSync, rmSync, writeFileSync } from 'node:fs';
import { isIP } from 'node:net';
import { join } from 'node:path';
import { promisify } from 'node:util';
import { X509Certificate, createPrivateKey } from 'node:crypto';

const run = promisify(execFile);

export interface TlsFiles {
  ca: string;
  caKey?: string;
  cert: string;
  key: string;
}

/** subjectAltName value for the given names plus localhost / 127.0.0.1 / ::1 (loopback clients, tests). */
export function subjectAltName(hostnames: readonly string[]): string {
  const names = new Set<string>([...hostnames, 'localhost', '127.0.0.1', '::1']);
  return [...names].map((h) => (isIP(h) ? `IP:${h}` : `DNS:${h}`)).join(',');
}

/** Creates an empty 0600 file so openssl writes the key into a file nobody else could ever open. */
function touchPrivate(path: string): void {
  closeSync(openSync(path, 'wx', 0o600));
}

async function openssl(args: string[]): Promise<void> {
  try {
    await run('openssl', args, { timeout: 60_000 });
  } catch (err) {
    const e = err as NodeJS.ErrnoException & { stderr?: string };
    if (e.code === 'ENOENT') throw new Error('The `openssl` command is not installed (apt-get install openssl), or pass --tls-cert and --tls-key.');
    throw new Error(`openssl ${args[0]} failed: ${(e.stderr ?? e.message).trim()}`);
  }
}

/**
 * A CA (10 years) and a server certificate (825 days, the longest clients accept) for `hostnames`,
 * both ECDSA P-256, written into `tlsDir` (which must exist, 0700).
 */
export async function makeTeamTls(tlsDir: string, team: string, hostnames: readonly string[]): Promise<TlsFiles> {
  const f = { ca: join(tlsDir, 'ca.crt'), caKey: join(tlsDir, 'ca.key'), cert: join(tlsDir, 'server.crt'), key: join(tlsDir, 'server.key') };
  const csr = join(tlsDir, 'server.csr');
  const ext = join(tlsDir, 'server.ext');
  touchPrivate(f.caKey);
  touchPrivate(f.key);
  const cn = team.replace(/[^A-Za-z0-9 ._-]/g, '_').slice(0, 40) || 'team';
  await openssl(['req', '-x509', '-newkey', 'ec', '-pkeyopt', 'ec_paramgen_curve:prime256v1', '-nodes', '-keyout', f.caKey, '-out', f.ca,
    '-days', '3650', '-subj', `/CN=${cn} Chapter Telemetry team CA`,
    '-addext', 'basicConstraints=critical,CA:TRUE,pathlen:0', '-addext', 'keyUsage=critical,keyCertSign,cRLSign']);
  await openssl(['req', '-new', '-newkey', 'ec', '-pkeyopt', 'ec_paramgen_curve:prime256v1', '-nodes', '-keyout', f.key, '-out', csr,
    '-subj', `/CN=${hostnames[0] ?? 'localhost'}`]);
  writeFileSync(ext, [
    'basicConstraints=critical,CA:FALSE',
    'keyUsage=critical,digitalSignature',
    'extendedKeyUsage=serverAuth',
    `subjectAltName=${subjectAltName(hostnames)}`,
    '',
  ].join('\n'), { mode: 0o600 });
  await openssl(['x509', '-req', '-in', csr, '-CA', f.ca, '-CAkey', f.caKey, '-CAcreateserial', '-out', f.cert, '-days', '825', '-sha256', '-extfile', ext]);
  for (const p of [f.ca, f.cert]) chmodSync(p, 0o600);
  // openssl leaves the request, our extension file and the serial file behind; none is needed again.
  for (const p of [csr, ext, join(tlsDir, 'ca.srl')]) rmSync(p, { force: true });
  return f;
}

/**
 * Checks an admin-supplied certificate + key: both parse, the key belongs to the certificate.
 * Returns the CA to hand to members: `caPath` if given, else the last certificate of the chain
 * file (a self-signed certificate is its own CA).
 */
export function checkSuppliedTls(certPath: string, keyPath: string, caPath?: string): { caPem: string } {
  const certText = readFileSync(certPath, 'utf8');
  const pems = certText.match(/-----BEGIN CERTIFICATE-----[\s\S]+?-----END CERTIFICATE-----/g) ?? [];
  if (pems.length === 0) throw new Error(`${certPath} holds no PEM certificate.`);
  const leaf = new X509Certificate(pems[0]!);
  const key = createPrivateKey(readFileSync(keyPath));
  if (!leaf.checkPrivateKey(key)) throw new Error(`${keyPath} is not the private key of the certificate in ${certPath}.`);
  const caPem = caPath ? readFileSync(caPath, 'utf8') : pems[pems.length - 1]!;
  new X509Certificate(caPem); // throws on garbage
  return { caPem: caPem.trim() + '\n' };
}
