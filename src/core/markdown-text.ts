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
}

export function tooltipMarkdown(v: TooltipView): string {
  const parts = [
    `**Chapter Telemetry** — ${v.state === 'on' ? 'collecting' : escapeMarkdown(v.state)}`,
    `Mode: ${escapeMarkdown(v.mode)}${v.attached ? ' (attached to a running server)' : ''}`,
  ];
  if (v.endpoint) parts.push(`Endpoint: ${escapeMarkdown(v.endpoint)}`);
  parts.push(`Chapter: ${v.chapter ? escapeMarkdown(v.chapter) : '—'}${v.manualChapter ? ' (set manually)' : ''}`);
  if (v.eventsToday !== undefined) parts.push(`Events today: ${v.eventsToday}`);
  if (v.error) parts.push(escapeMarkdown(v.error));
  parts.push(`Click to turn collection ${v.state === 'on' ? 'off' : 'on'}.`);
  return parts.join('\n\n');
}
