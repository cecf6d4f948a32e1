/** The panels' range picker (7 / 30 / 90 days, custom); whose numbers is the scope picker's (scope.ts). */
import type { RangeSpec } from '../core/analytics';
import { h } from './dom';

export function rangePicker(spec: RangeSpec, onChange: (s: Omit<RangeSpec, 'scope'>) => void): HTMLElement {
  const preset = h('select', { 'aria-label': 'Range', 'data-control': 'range' },
    ...([7, 30, 90, 'custom'] as const).map((p) => {
      const o = h('option', { value: String(p) }, p === 'custom' ? 'Custom…' : `Last ${p} days`);
      o.selected = spec.preset === p;
      return o;
    }));
  const from = h('input', { type: 'date', 'aria-label': 'From day', 'data-control': 'from' });
  const to = h('input', { type: 'date', 'aria-label': 'To day', 'data-control': 'to' });
  from.value = spec.fromDay ?? '';
  to.value = spec.toDay ?? '';
  const custom = h('span', { class: 'custom' }, from, ' – ', to);
  custom.hidden = spec.preset !== 'custom';
  const emit = () => {
    const p = preset.value === 'custom' ? 'custom' : (Number(preset.value) as 7 | 30 | 90);
    custom.hidden = p !== 'custom';
    if (p === 'custom' && (!from.value || !to.value)) return;
    onChange({ preset: p, ...(p === 'custom' ? { fromDay: from.value, toDay: to.value } : {}) });
  };
  for (const el of [preset, from, to]) el.addEventListener('change', emit);
  return h('div', { class: 'range' }, preset, custom);
}
