/** The scope chooser every view shows, and the note that says what an author filter hides. */
import type { Scoped } from '../core/analytics';
import { hiddenRowsText, type ScopeOption, type ViewScope } from '../core/analytics/scope';
import { h } from './dom';

export function scopePicker(options: readonly ScopeOption[], current: ViewScope, onChange: (s: ViewScope) => void): HTMLElement {
  const sel = h('select', { 'aria-label': 'Whose numbers', 'data-control': 'scope' },
    ...options.map((o) => h('option', { value: o.scope }, o.label)));
  sel.value = current;
  sel.addEventListener('change', () => onChange(sel.value as ViewScope));
  return sel;
}

/** Same choices as before? (Then the header need not be redrawn.) */
export function sameOptions(a: readonly ScopeOption[], b: readonly ScopeOption[]): boolean {
  return a.length === b.length && a.every((o, i) => o.scope === b[i]?.scope && o.label === b[i]?.label);
}

/** "12 requests by another author hidden [Show them]" when the `me` filter left rows out; else nothing. */
export function hiddenNote(d: Scoped, showAll: () => void): HTMLElement | null {
  const text = hiddenRowsText(d.hidden);
  if (!text || !d.hidden) return null;
  return h('p', {
    class: 'hidden-note', role: 'status', 'data-section': 'hidden',
    'data-requests': String(d.hidden.requests), 'data-errors': String(d.hidden.errors), 'data-authors': String(d.hidden.authors),
  }, `${text}. `, h('button', { type: 'button', class: 'link', 'data-action': 'show-hidden', onclick: showAll }, 'Show them'));
}
