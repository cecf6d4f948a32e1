/** One bundle for the three panels; the host says which one in `data-kind`, the state survives reloads. */
import type { RangeSpec } from '../core/analytics';
import { DEFAULT_SCOPE, type ScopeOption, type ViewScope } from '../core/analytics/scope';
import { disposeDetached } from './charts';
import { h, replace } from './dom';
import { asFailure, failureView } from './failure';
import { renderChapters } from './panels/chapters';
import { renderCost } from './panels/cost';
import { renderErrors } from './panels/errors';
import { renderTeamChapters, renderTeamCost, renderTeamErrors } from './panels/team';
import { isPanelKind, type PanelKind, type PanelState } from './protocol';
import { rangePicker } from './range';
import { coalesced, onPush, request, vscode } from './rpc';
import { sameOptions, scopePicker } from './scope';

const saved = vscode.getState() as Partial<PanelState> | undefined;
const kind: PanelKind = isPanelKind(document.body.dataset.kind) ? document.body.dataset.kind : isPanelKind(saved?.kind) ? saved.kind : 'cost';
// Local mode shows the whole store by default; a saved choice (also an older "me") is kept while this window offers it.
let spec: RangeSpec = saved?.spec ?? { preset: 30, scope: DEFAULT_SCOPE };
let options: ScopeOption[] = [];

const TITLES: Record<PanelKind, string> = { cost: 'Cost', errors: 'Errors', chapters: 'Chapters' };
/** `showAll` is the hidden-rows note's "Show them": the same view for every author in the store. */
type Render = (spec: RangeSpec, showAll: () => void) => Promise<HTMLElement>;
const RENDER: Record<PanelKind, Render> = { cost: renderCost, errors: renderErrors, chapters: renderChapters };
/** The Team scope reads other questions (aggregates only). */
const RENDER_TEAM: Record<PanelKind, (spec: RangeSpec) => Promise<HTMLElement>> = { cost: renderTeamCost, errors: renderTeamErrors, chapters: renderTeamChapters };

const header = document.getElementById('header')!;
const root = document.getElementById('root')!;

function setSpec(s: RangeSpec): void {
  spec = s;
  vscode.setState({ kind, spec } satisfies PanelState);
}

function setScope(scope: ViewScope): void {
  setSpec({ ...spec, scope });
  drawHeader();
  void refresh();
}

function drawHeader(): void {
  replace(header, h('h1', {}, `Chapter Telemetry — ${TITLES[kind]}`), h('div', { class: 'range' },
    rangePicker(spec, (r) => {
      setSpec({ ...r, scope: spec.scope });
      void refresh();
    }),
    options.length ? scopePicker(options, spec.scope, setScope) : null));
}

const refresh = coalesced(async () => {
  try {
    // The choices follow the team connection (connected, reverted, role): ask each time, redraw when they moved.
    const choices = (await request('scopes', {})).options;
    if (!sameOptions(choices, options)) {
      options = choices;
      if (!options.some((o) => o.scope === spec.scope)) setSpec({ ...spec, scope: DEFAULT_SCOPE });
      drawHeader();
    }
    const view = spec.scope === 'team' ? await RENDER_TEAM[kind](spec) : await RENDER[kind](spec, () => setScope('all'));
    document.body.dataset.state = 'ready';
    replace(root, view);
  } catch (e) {
    const f = asFailure(e);
    document.body.dataset.state = f.kind === 'query' ? 'error' : 'unreachable';
    replace(root, failureView(f));
  } finally {
    disposeDetached();
  }
});

vscode.setState({ kind, spec } satisfies PanelState);
document.body.dataset.state = 'loading';
drawHeader();
onPush(() => void refresh());
void refresh();
