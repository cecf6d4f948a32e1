// The team set-up of the suite-driven VS Code tests that centralize against a real team server: this checkout built,
// a team (startTeam: its directory, CA and members, the server in its own network namespace over TLS), the folder the
// window opens, and an owner-only folder shared with the suite, holding the member bundles it asked for. One close().
import { mkdirSync, writeFileSync } from 'node:fs';
import { join } from 'node:path';
import type { IssuedMember } from '../../src/server/team/admin';
import type { TeamRole } from '../../src/core/team-bundle';
import { startTeam, teamSql, type Team } from './team-server';
import { buildForSuite } from './vscode-suite';

export interface SuiteTeam extends Team {
  /** The member `initTeam` made. */
  admin: IssuedMember;
  /** The folder the VS Code window opens. */
  workspace: string;
  /** 0700, shared with the suite through its environment variable: `<member>.bundle` files (0600) in, results out. */
  io: string;
  /** Where the extension's own embedded store keeps its data (apart from the team server's). */
  localData: string;
  /** SQL over the team server's HTTPS port as the admin; rows as objects. */
  adminSql(query: string): Promise<Array<Record<string, unknown>>>;
}

/**
 * Builds, starts the team (`members` added in order, then `prepare` on the team directory), and writes the bundle of
 * each member named in `bundles` (the admin included) as `io/<name>.bundle`, mode 0600: a bundle carries the member's
 * secret, so it reaches the suite through an owner-only file, never the environment. Whatever was made is removed if
 * a step fails.
 */
export async function startTeamForSuite(o: {
  name: string; ports: { grpc: number; otlpHttp: number; http: number }; tmpPrefix: string;
  members: Array<[string, TeamRole]>; bundles?: string[]; prepare?: (dir: string) => Promise<void>;
}): Promise<SuiteTeam> {
  buildForSuite();
  const team = await startTeam({ name: o.name, ports: o.ports, members: o.members, tmpPrefix: o.tmpPrefix, prepare: o.prepare });
  try {
    const admin = team.members.admin!;
    const workspace = join(team.root, 'ws');
    const io = join(team.root, 'io');
    mkdirSync(workspace);
    mkdirSync(io, { mode: 0o700 });
    for (const name of o.bundles ?? []) {
      const m = team.members[name];
      if (!m) throw new Error(`no member ${name} to write a bundle of`);
      writeFileSync(join(io, `${name}.bundle`), m.bundle, { mode: 0o600 });
    }
    return {
      ...team, admin, workspace, io, localData: join(team.root, 'local-data'),
      adminSql: (query) => teamSql(admin.query_url, admin.ca_pem, 'admin', admin.secret, query),
    };
  } catch (e) {
    await team.close();
    throw e;
  }
}
