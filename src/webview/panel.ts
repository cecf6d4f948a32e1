/** One bundle for the three panels; the host says which one in `data-kind`, the state survives reloads. */
import type { RangeSpec } from '../core/analytics';
import { disposeDetached } from './charts';
import { h, replace } from './dom';
import { asFailure, failureView } from './failure';
import { renderChapters } from './panels/chapters';
import { renderCost } from './panels/cost';
import { renderErrors } from './panels/errors';
import { isPanelKind, type PanelKind, type PanelState } from './protocol';
import { rangePicker } from './range';
import { coalesced, onPush, vscode } from './rpc';

const saved = vscode.getState() as Partial<PanelState> | undefined;
const kind: PanelKind = isPanelKind(document.body.dataset.kind) ? document.body.dataset.kind : isPanelKind(saved?.kind) ? saved.kind : 'cost';
let spec: RangeSpec = saved?.spec ?? { preset: 30, scope: 'me' };

const TITLES: Record<PanelKind, string> = { cost: 'Cost', errors: 'Errors', chapters: 'Chapters' };
const RENDER: Record<PanelKind, (spec: RangeSpec) => Promise<HTMLElement>> = { cost: renderCost, errors: renderErrors, chapters: renderChapters };

const header = document.getElementById('header')!;
const root = document.getElementById('root')!;

function drawHeader(): void {
  replace(header, h('h1', {}, `Chapter Telemetry — ${TITLES[kind]}`), rangePicker(spec, (s) => {
    spec = s;
    vscode.setState({ kind, spec } satisfies PanelState);
    void refresh();
  }));
}

const refresh = coalesced(async () => {
  try {
    const view = await RENDER[kind](spec);
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
