/**
 * Building DOM without markup strings: every value goes in as a text node or an attribute, so telemetry
 * (chapter names, error messages, models) can never become HTML. There is no innerHTML in the webviews.
 */
import { toCsv } from '../core/analytics/csv';
import { request } from './rpc';

type Child = Node | string | number | null | undefined | false;
type Attrs = Record<string, string | number | boolean | undefined | ((ev: Event) => void)>;

export function h<K extends keyof HTMLElementTagNameMap>(tag: K, attrs: Attrs = {}, ...children: Child[]): HTMLElementTagNameMap[K] {
  const el = document.createElement(tag);
  for (const [k, v] of Object.entries(attrs)) {
    if (v === undefined || v === false) continue;
    if (typeof v === 'function') el.addEventListener(k.replace(/^on/, ''), v);
    else el.setAttribute(k, v === true ? '' : String(v));
  }
  append(el, children);
  return el;
}

export function append(el: Element, children: Child[]): void {
  for (const c of children) {
    if (c === null || c === undefined || c === false) continue;
    el.append(typeof c === 'object' ? c : document.createTextNode(String(c)));
  }
}

export function replace(el: Element, ...children: Child[]): void {
  el.replaceChildren();
  append(el, children);
}

export interface Column<R> {
  key: string;
  label: string;
  value(r: R): string | number;
  /** Display text; defaults to the value. */
  format?(v: never): string;
  /** A click on the cell (drill-down); the cell becomes a button. */
  onClick?(r: R): void;
}

/** A table (the screen-reader equivalent of a chart, or a list of its own) with "Copy as CSV". */
export function table<R>(id: string, caption: string, columns: Column<R>[], rows: R[]): HTMLElement {
  const head = h('tr', {}, ...columns.map((c) => h('th', { scope: 'col', 'data-col': c.key }, c.label)));
  const body = rows.map((r) =>
    h('tr', {}, ...columns.map((c) => {
      const v = c.value(r);
      const text = c.format ? (c.format as (v: string | number) => string)(v) : String(v);
      const content = c.onClick ? h('button', { class: 'link', type: 'button', onclick: () => c.onClick!(r) }, text) : text;
      return h('td', { 'data-col': c.key, 'data-value': String(v), class: typeof v === 'number' ? 'num' : undefined }, content);
    })));
  const csv = () => toCsv(columns.map((c) => c.label), rows.map((r) => columns.map((c) => c.value(r))));
  return h('div', { class: 'table-wrap' },
    h('div', { class: 'table-tools' },
      h('button', { type: 'button', class: 'secondary', 'data-copy': id, onclick: () => void request('copy', { text: csv() }) }, 'Copy as CSV')),
    h('table', { 'data-table': id },
      h('caption', {}, caption),
      h('thead', {}, head),
      h('tbody', {}, ...(rows.length ? body : [h('tr', {}, h('td', { colspan: columns.length, class: 'none' }, 'No data in this range.'))]))));
}

export function button(label: string, onclick: () => void, cls = ''): HTMLButtonElement {
  return h('button', { type: 'button', class: cls || undefined, onclick }, label);
}
