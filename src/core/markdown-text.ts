/**
 * Text that goes into a Markdown tooltip as text: a chapter is a folder name, and a folder named
 * `01-[x](https://…)` must show those characters, not become a link (or an image, HTML, a theme icon).
 */

/** Backslash-escapes every ASCII punctuation character (CommonMark allows that for all of them); line breaks become spaces. */
export function escapeMarkdown(text: string): string {
  return text.replace(/[\r\n]+/g, ' ').replace(/[!-/:-@[-`{-~]/g, (c) => `\\${c}`);
}

/** What the status-bar tooltip says; the vscode layer wraps it in a MarkdownString (theme icons on). */
export interface TooltipView {
  state: string;
  chapter?: string;
  manualChapter: boolean;
  mode: string;
  endpoint?: string;
  eventsToday?: number;
  attached?: boolean;
  error?: string;
  /** Budget figures ("$4.10 of $5.00 today"), worst first, and the worst state; absent when no limit is set. */
  budget?: { state: 'ok' | 'warning' | 'over'; lines: string[] };
}

const BUDGET_WORDS = { ok: 'Budget', warning: 'Budget — nearly reached', over: 'Budget — reached' } as const;

export function tooltipMarkdown(v: TooltipView): string {
  const parts = [
    `**Chapter Telemetry** — ${v.state === 'on' ? 'collecting' : escapeMarkdown(v.state)}`,
    `Mode: ${escapeMarkdown(v.mode)}${v.attached ? ' (attached to a running server)' : ''}`,
  ];
  if (v.endpoint) parts.push(`Endpoint: ${escapeMarkdown(v.endpoint)}`);
  parts.push(`Chapter: ${v.chapter ? escapeMarkdown(v.chapter) : '—'}${v.manualChapter ? ' (set manually)' : ''}`);
  if (v.eventsToday !== undefined) parts.push(`Events today: ${v.eventsToday}`);
  if (v.error) parts.push(escapeMarkdown(v.error));
  if (v.budget && v.budget.lines.length > 0) parts.push(`${BUDGET_WORDS[v.budget.state]}: ${v.budget.lines.map(escapeMarkdown).join(' · ')}`);
  parts.push(`Click to turn collection ${v.state === 'on' ? 'off' : 'on'}.`);
  return parts.join('\n\n');
}
