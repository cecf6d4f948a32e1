// The team set-up of the suite-driven VS Code tests that centralize against a real team server: this checkout built,
// a team (startTeam: its directory, CA and members, the server in its own network namespace over TLS), the folder the
// window opens, and an owner-only folder shared with the suite, holding the member bundles it asked for. One close().
import { writeFileSync } from 'node:fs';
import { join } from 'node:path';
import type { IssuedMember } from '../../src/server/team/admin';
import type { TeamRole } from '../../src/core/team-bundle';
import { startTeam, teamSql, type Team } from './team-server';
import { buildCheckout } from './codeserver';
import { makeSuiteFolders, type SuiteFolders } from './vscode-suite';

/** The team, and the suite folders in its root (`io` holds the `<member>.bundle` files asked for). */
export interface SuiteTeam extends Team, SuiteFolders {
  /** The member `initTeam` made. */
  admin: IssuedMember;
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
  buildCheckout();
  const team = await startTeam({ name: o.name, ports: o.ports, members: o.members, tmpPrefix: o.tmpPrefix, prepare: o.prepare });
  try {
    const admin = team.members.admin!;
    const folders = makeSuiteFolders(team.root);
    for (const name of o.bundles ?? []) {
      const m = team.members[name];
      if (!m) throw new Error(`no member ${name} to write a bundle of`);
      writeFileSync(join(folders.io, `${name}.bundle`), m.bundle, { mode: 0o600 });
    }
    return {
      ...team, ...folders, admin,
      adminSql: (query) => teamSql(admin.query_url, admin.ca_pem, 'admin', admin.secret, query),
    };
  } catch (e) {
    await team.close();
    throw e;
  }
}
