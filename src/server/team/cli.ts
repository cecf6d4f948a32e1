/**
 * `npm run team -- <command> --dir DIR …`: headless team administration (built to dist/team-cli.js).
 * Output for people on stdout; `error: …` on stderr with exit code 2 (usage) or 1 (refused/failed).
 * A secret is printed only inside the bundle of the member it belongs to, once.
 */
import { readFileSync } from 'node:fs';
import { isIP } from 'node:net';
import { join } from 'node:path';
import { parseArgs } from 'node:util';
import { TEAM_ROLES, type TeamRole } from '../../core/team-bundle';
import { PRIVACY_LEVELS, type PrivacyLevel } from '../../core/team-privacy';
import { addMember, initTeam, listMembers, removeMember, rotateMember, setPrivacy, type IssuedMember } from './admin';
import { readMembers, TeamFileError } from './members';
import { readTeamConfig, teamPath } from './team-config';
import { centralAddMember, centralRemoveMember, centralRotateMember, centralSetup } from './central-admin';
import { removeHtpasswdMember, writeHtpasswdMember } from './htpasswd';
import { BackupError, backupDataDir, restoreDataDir } from '../backup';
import { controlTokenPath, readControlToken } from './control-token';
import { memberDataRequest } from '../../stack/team-data';
import { MEMBER_NAME_RE } from '../../core/team-bundle';
import type { MemberDataCounts, MemberDeletion, MemberTableCount } from '../../core/data/team-deletion';

export const USAGE = `usage: npm run team -- <command> --dir DIR [options]
  init --dir DIR [--name TEAM] [--hostname NAME-OR-ADDRESS …] [--tls-cert F --tls-key F [--tls-ca F]]
       [--privacy all|no-content|aggregates-only] [--admin NAME] [--grpc-port N --otlp-http-port N --http-port N]
  add-member NAME --dir DIR [--role contributor|coordinator|admin] [--valid-days N] [--json] [--htpasswd FILE]
  rotate NAME --dir DIR [--valid-days N] [--json] [--htpasswd FILE]
  remove-member NAME --dir DIR [--htpasswd FILE]
  list --dir DIR [--json]
  privacy all|no-content|aggregates-only --dir DIR
  central-setup --dir DIR [--clickhouse-url URL]
       (central mode: roles, row policies and member users on a ClickHouse server; the
        ClickHouse administrator from CLICKHOUSE_USER / CLICKHOUSE_PASSWORD in the environment.
        Afterwards add-member, rotate and remove-member keep the ClickHouse users in step.)
  delete-member-data NAME --dir DIR [--url https://HOST:PORT] [--dry-run] [--json]
       (every row of NAME on the running team server, at once, logged in DIR/deletions.jsonl; run on
        the server machine: it uses the token the running server wrote to DIR/control.token)
  backup --data-dir DATA --out FILE.tar          (the server on DATA stopped)
  restore FILE.tar --data-dir DATA [--replace]   (the server on DATA stopped)`;

class UsageError extends Error {}

const OPTIONS = {
  dir: { type: 'string' },
  name: { type: 'string' },
  hostname: { type: 'string', multiple: true },
  'tls-cert': { type: 'string' },
  'tls-key': { type: 'string' },
  'tls-ca': { type: 'string' },
  privacy: { type: 'string' },
  admin: { type: 'string' },
  role: { type: 'string' },
  'valid-days': { type: 'string' },
  'grpc-port': { type: 'string' },
  'otlp-http-port': { type: 'string' },
  'http-port': { type: 'string' },
  'clickhouse-url': { type: 'string' },
  htpasswd: { type: 'string' },
  json: { type: 'boolean', default: false },
  'data-dir': { type: 'string' },
  out: { type: 'string' },
  replace: { type: 'boolean', default: false },
  url: { type: 'string' },
  'dry-run': { type: 'boolean', default: false },
  help: { type: 'boolean', short: 'h', default: false },
} as const;

function intOpt(v: string | undefined, what: string, min: number, max: number): number | undefined {
  if (v === undefined) return undefined;
  const n = Number(v);
  if (!Number.isInteger(n) || n < min || n > max) throw new UsageError(`${what} must be an integer ${min}..${max}, not "${v}".`);
  return n;
}

function printIssued(out: (s: string) => void, m: IssuedMember, json: boolean): void {
  if (json) {
    out(JSON.stringify(m));
    return;
  }
  out(`Connection bundle for ${m.member} (${m.role}) of team "${m.team}"${m.expires_at ? `, valid until ${m.expires_at}` : ''}.`);
  out('It contains the secret: send it privately; it is not stored anywhere and cannot be shown again.');
  out('Paste it into VS Code: "Chapter Telemetry: Centralize Telemetry".');
  out('');
  out(m.bundle);
}

export async function runTeamCli(argv: string[], out: (s: string) => void = (s) => console.log(s)): Promise<void> {
  const { values: v, positionals } = parseArgs({ args: argv, options: OPTIONS, allowPositionals: true, strict: true });
  const [command, arg, ...extra] = positionals;
  if (v.help || !command) throw new UsageError(USAGE);
  if (command === 'backup' || command === 'restore') return await runBackupCommand(command, arg, extra, v, out);
  if (!v.dir) throw new UsageError(`${command} needs --dir DIR (the team directory).\n${USAGE}`);
  const dir = v.dir;
  const validDays = intOpt(v['valid-days'], '--valid-days', 0, 3650);
  const needName = (): string => {
    if (!arg || extra.length > 0) throw new UsageError(`${command} takes exactly one member NAME.\n${USAGE}`);
    return arg;
  };
  switch (command) {
    case 'init': {
      if (arg) throw new UsageError(`init takes no positional argument (got "${arg}").`);
      if (v.privacy !== undefined && !PRIVACY_LEVELS.includes(v.privacy as PrivacyLevel)) throw new UsageError(`--privacy must be one of ${PRIVACY_LEVELS.join(', ')}.`);
      const ports: { grpc?: number; otlpHttp?: number; http?: number } = {};
      const g = intOpt(v['grpc-port'], '--grpc-port', 1, 65535); if (g) ports.grpc = g;
      const o = intOpt(v['otlp-http-port'], '--otlp-http-port', 1, 65535); if (o) ports.otlpHttp = o;
      const h = intOpt(v['http-port'], '--http-port', 1, 65535); if (h) ports.http = h;
      const { config, admin } = await initTeam({
        dir, name: v.name, hostnames: v.hostname, tlsCert: v['tls-cert'], tlsKey: v['tls-key'], tlsCa: v['tls-ca'],
        privacy: v.privacy as PrivacyLevel | undefined, admin: v.admin, ports, validDays,
      });
      if (v.json) {
        out(JSON.stringify({ dir, config, admin }));
        return;
      }
      out(`Team "${config.name}" created in ${dir} (privacy: ${config.privacy}; host names: ${config.hostnames.join(', ')}).`);
      out(`TLS: ${v['tls-cert'] ? 'your certificate' : 'a new private CA and a server certificate'} in ${dir}/tls (keys readable by you only).`);
      if (isIP(config.hostnames[0]!)) {
        // Measured with Claude Code 2.1.197: its gRPC exporter sends nothing, silently, to https://<IP literal>.
        out(`Note: bundles name ${config.hostnames[0]} (the first --hostname). Claude Code's gRPC exporter does not connect to an IP address over TLS; give a DNS name first if authors export over gRPC.`);
      }
      out('');
      printIssued(out, admin, false);
      out('');
      out('Next:');
      out(`  1. Add each author:     npm run team -- add-member NAME --dir ${dir} [--role contributor|coordinator|admin]`);
      out(`  2. Start the server:    npm start -- --team ${dir} --host 0.0.0.0`);
      out(`  3. Open the ports ${config.ports.grpc} (OTLP gRPC), ${config.ports.otlpHttp} (OTLP HTTP), ${config.ports.http} (queries) to your authors only.`);
      return;
    }
    case 'add-member': {
      const name = needName();
      const role = (v.role ?? 'contributor') as TeamRole;
      if (!TEAM_ROLES.includes(role)) throw new UsageError(`--role must be one of ${TEAM_ROLES.join(', ')}.`);
      // Central mode: the member's ClickHouse user first; members.json only once ClickHouse has it.
      const central = readTeamConfig(dir).clickhouse_url !== undefined;
      const issued = await addMember(dir, name, role, { validDays, beforeCommit: central ? (rec) => centralAddMember(dir, rec) : undefined });
      if (v.htpasswd) await writeHtpasswdMember(v.htpasswd, name, issued.secret);
      printIssued(out, issued, v.json);
      if (!v.json && v.htpasswd) out(`\n${name}'s line is in ${v.htpasswd} (restart the collector to load it).`);
      return;
    }
    case 'rotate': {
      const name = needName();
      const central = readTeamConfig(dir).clickhouse_url !== undefined;
      const issued = await rotateMember(dir, name, { validDays, beforeCommit: central ? (rec) => centralRotateMember(dir, rec) : undefined });
      if (v.htpasswd) await writeHtpasswdMember(v.htpasswd, name, issued.secret);
      printIssued(out, issued, v.json);
      if (!v.json) out(`\nThe old secret of ${name} no longer works.`);
      return;
    }
    case 'remove-member': {
      const name = needName();
      const central = readTeamConfig(dir).clickhouse_url !== undefined;
      // Central mode, a removal that failed halfway: the member is gone from members.json, their
      // ClickHouse user may not be. Running remove-member again drops it.
      const inFile = readMembers(dir).members.some((m) => m.name === name);
      if (inFile || !central) removeMember(dir, name);
      if (v.htpasswd && removeHtpasswdMember(v.htpasswd, name)) out(`${name}'s line removed from ${v.htpasswd} (restart the collector to apply it).`);
      if (central) {
        try {
          await centralRemoveMember(dir, name);
        } catch (err) {
          throw new TeamFileError(`${name} is removed from the team (the team server refuses their secret now), but their ClickHouse user could not be dropped: ${(err as Error).message}\nRun remove-member ${name} again once ClickHouse answers.`);
        }
      }
      out(inFile
        ? `${name} removed: their secret is refused from now on (a running server re-reads the members file)${central ? '; their ClickHouse user is dropped' : ''}.`
        : `${name} was no longer a member; their ClickHouse user is dropped.`);
      return;
    }
    case 'list': {
      const l = listMembers(dir);
      if (v.json) {
        out(JSON.stringify(l));
        return;
      }
      out(`Team "${l.team}", privacy ${l.privacy}, ${l.members.length} member(s):`);
      for (const m of l.members) out(`  ${m.name.padEnd(20)} ${m.role.padEnd(12)} since ${m.created_at}${m.rotated_at ? `, rotated ${m.rotated_at}` : ''}${m.owner ? ' (owner)' : ''}`);
      return;
    }
    case 'privacy': {
      if (!arg || !PRIVACY_LEVELS.includes(arg as PrivacyLevel)) throw new UsageError(`privacy takes one of ${PRIVACY_LEVELS.join(', ')}.`);
      const c = setPrivacy(dir, arg as PrivacyLevel);
      out(`Team "${c.name}" privacy is now ${c.privacy} (a running server applies it from its next export on).`);
      return;
    }
    case 'central-setup': {
      if (arg) throw new UsageError(`central-setup takes no positional argument (got "${arg}").`);
      const r = await centralSetup(dir, v['clickhouse-url']);
      out(`Central mode: team records are stored in and read from ${r.url}.`);
      out(`Roles, row policies and read-only profile applied; ClickHouse users for ${r.members.length} member(s): ${r.members.join(', ')}.`);
      if (r.keyMade) out(`A team key was made in ${dir}/central.key (members' ClickHouse passwords derive from it: keep it like the TLS key).`);
      out(`Start the server with: CLICKHOUSE_USER=… CLICKHOUSE_PASSWORD=… npm start -- --team ${dir} --clickhouse-url ${r.url} --host 0.0.0.0`);
      return;
    }
    case 'delete-member-data': {
      const name = needName();
      if (!MEMBER_NAME_RE.test(name)) throw new UsageError(`"${name}" is not a member name.`);
      await deleteMemberData(dir, name, v, out);
      return;
    }
    default:
      throw new UsageError(`unknown command "${command}".\n${USAGE}`);
  }
}

/**
 * delete-member-data talks to the RUNNING team server as its own admin (the control token it wrote
 * into the team directory): the deletion is immediate, the server keeps serving, and it is the one
 * process that holds the data directory (the engine allows one), so nothing else could delete there.
 */
async function deleteMemberData(dir: string, name: string, v: { url?: string; 'dry-run'?: boolean; json?: boolean }, out: (s: string) => void): Promise<void> {
  const config = readTeamConfig(dir);
  let token: string;
  try {
    token = readControlToken(dir);
  } catch {
    throw new TeamFileError(`no running team server for ${dir} (${controlTokenPath(dir)} is missing): start it (npm start -- --team ${dir}), then run this again.`);
  }
  const host = config.hostnames[0]!;
  const url = v.url ?? `https://${host.includes(':') ? `[${host}]` : host}:${config.ports.otlpHttp}`;
  const connection = { otlp_http: url, ca_pem: readFileSync(teamPath(dir, config.tls.ca), 'utf8') };
  const show = (rows: MemberTableCount[]) => {
    for (const t of rows) if (t.rows > 0) out(`  ${t.label.padEnd(44)} ${String(t.rows).padStart(10)}  ${t.first} … ${t.last}`);
  };
  try {
    if (v['dry-run']) {
      const c = await memberDataRequest<MemberDataCounts>(connection, token, name, 'data');
      if (v.json) return out(JSON.stringify(c));
      out(`${name} has ${c.total} rows on team "${config.name}"${c.total > 0 ? ':' : '.'}`);
      show(c.tables);
      return;
    }
    const d = await memberDataRequest<MemberDeletion>(connection, token, name, 'delete');
    if (v.json) return out(JSON.stringify(d));
    out(`Deleted ${d.total} rows of ${name} from team "${config.name}" at ${d.at}${d.total > 0 ? ':' : '.'}`);
    show(d.deleted);
    out(`Afterwards: ${d.after.total} rows. Logged in ${join(dir, 'deletions.jsonl')} (who, when, how many; no data).`);
  } catch (err) {
    throw new TeamFileError(`${(err as Error).message} (server ${url})`);
  }
}

/** backup / restore work on a server's data directory (the engine's own BACKUP/RESTORE, src/server/backup.ts). */
async function runBackupCommand(command: 'backup' | 'restore', arg: string | undefined, extra: string[], v: { 'data-dir'?: string; out?: string; replace?: boolean; json?: boolean }, out: (s: string) => void): Promise<void> {
  const dataDir = v['data-dir'];
  if (!dataDir) throw new UsageError(`${command} needs --data-dir DATA (the server's data directory).\n${USAGE}`);
  const show = (counts: Record<string, number>) => {
    if (v.json) return out(JSON.stringify(counts));
    for (const [t, n] of Object.entries(counts)) out(`  ${t.padEnd(40)} ${n}`);
  };
  if (command === 'backup') {
    if (!v.out || arg) throw new UsageError(`backup takes --out FILE.tar and no other argument.\n${USAGE}`);
    const counts = await backupDataDir(dataDir, v.out);
    if (!v.json) out(`Backed up ${dataDir} to ${v.out} (rows per table):`);
    show(counts);
    return;
  }
  if (!arg || extra.length > 0) throw new UsageError(`restore takes exactly one backup FILE.tar.\n${USAGE}`);
  const counts = await restoreDataDir(dataDir, arg, { replace: v.replace });
  if (!v.json) out(`Restored ${arg} into ${dataDir} (rows per table); start the server on it as before:`);
  show(counts);
}

export async function main(argv: string[]): Promise<number> {
  try {
    await runTeamCli(argv);
    return 0;
  } catch (err) {
    const e = err as Error & { code?: string };
    if (err instanceof UsageError || e.code === 'ERR_PARSE_ARGS_UNKNOWN_OPTION' || e.code === 'ERR_PARSE_ARGS_INVALID_OPTION_VALUE' || e.code === 'ERR_PARSE_ARGS_UNEXPECTED_POSITIONAL') {
      console.error(err instanceof UsageError ? `error: ${e.message}` : `error: ${e.message}\n${USAGE}`);
      return 2;
    }
    console.error(`error: ${err instanceof TeamFileError || err instanceof BackupError ? e.message : e.message ?? String(err)}`);
    return 1;
  }
}

if (require.main === module) {
  void main(process.argv.slice(2)).then((code) => process.exit(code));
}
