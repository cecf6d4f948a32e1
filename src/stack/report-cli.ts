/**
 * Headless weekly report: `npm run report -- [--url http://127.0.0.1:8123] [--user ID | --all]
 * [--week 2026-W48] [--workspace DIR] --format md|html --out DIR` writes DIR/2026-W48.md or .html. With --workspace,
 * also the budget now (limits from DIR/.vscode/settings.json) and words / cost per 1,000 words per chapter. Without --week: the
 * last full ISO week; without --user/--all: the OS user (the extension's default author id).
 * With --team-bundle-file F (the member's bundle line in a file of mode 0600; never the secret in argv): the
 * report reads the team server with that member's credential and team CA: the member's own rows, plus, for a
 * coordinator or admin, the team section (cost by member, error patterns, chapter complexity; aggregates only).
 * It excludes --url, --user, --all and --workspace.
 * Exit codes: 0 written, 1 failed, 2 usage.
 */
import { userInfo } from 'node:os';
import { resolve } from 'node:path';
import { headlessArgs } from './headless-args';
import { lastFullWeek, parseIsoWeek } from '../core/report/iso-week';
import { fetchTeamWeeklyReport, fetchWeeklyReport, teamAccessFromBundleFile, writeReport } from './report-data';
import { workspaceSection } from './report-workspace';

const USAGE = 'usage: npm run report -- [--url http://127.0.0.1:8123] [--user ID | --all] [--week YYYY-Www] [--workspace DIR] --format md|html --out DIR\n'
  + '       npm run report -- --team-bundle-file FILE [--week YYYY-Www] --format md|html --out DIR';

async function main(): Promise<number> {
  const values = headlessArgs({
    url: { type: 'string' }, user: { type: 'string' }, all: { type: 'boolean' },
    week: { type: 'string' }, format: { type: 'string' }, out: { type: 'string' }, help: { type: 'boolean' },
    workspace: { type: 'string' }, 'team-bundle-file': { type: 'string' },
  }, USAGE);
  if (typeof values === 'number') return values;
  const usage = (m: string) => {
    process.stderr.write(`${m}\n${USAGE}\n`);
    return 2;
  };
  if (values.format !== 'md' && values.format !== 'html') return usage('--format must be md or html');
  if (!values.out) return usage('--out DIR is required');
  if (values.user !== undefined && values.all) return usage('--user and --all exclude each other');
  const week = values.week === undefined ? lastFullWeek(Date.now()) : parseIsoWeek(values.week);
  if (!week) return usage(`--week must be an ISO week like 2026-W48, got "${values.week}"`);
  const bundleFile = values['team-bundle-file'];
  if (bundleFile !== undefined && (values.url !== undefined || values.user !== undefined || values.all || values.workspace !== undefined)) {
    return usage('--team-bundle-file reads the team server as its member: no --url, --user, --all or --workspace with it');
  }
  const user = values.user ?? userInfo().username;
  try {
    const workspace = values.workspace === undefined ? undefined : resolve(values.workspace);
    const report = bundleFile !== undefined
      ? await fetchTeamWeeklyReport(await teamAccessFromBundleFile(resolve(bundleFile)), week)
      : await fetchWeeklyReport({ url: values.url ?? 'http://127.0.0.1:8123' }, week, { user: values.all ? '' : user, all: values.all === true },
        workspace === undefined ? undefined : async (run, r) => {
          r.workspace = await workspaceSection(workspace, run, values.all ? '' : user);
        });
    const file = await writeReport(report, resolve(values.out), values.format);
    process.stdout.write(`wrote ${file}\n`);
    return 0;
  } catch (err) {
    process.stderr.write(`report failed: ${(err as Error).message}\n`);
    return 1;
  }
}

void main().then((code) => process.exit(code));
