// Playwright helpers for the VS Code workbench as code-server serves it. Selectors are VS Code 1.100's DOM;
// every wait has a deadline and fails with what it was waiting for.
import type { Frame, Locator, Page } from 'playwright-core';
import { eventually } from './eventually';

const quickInput = '.quick-input-widget';

/** Calls `probe` until it returns a value (errors count as not yet); fails after `timeoutMs` saying what it waited for and, given `last`, what was seen last. */
export async function poll<T>(what: string, timeoutMs: number, probe: () => Promise<T | undefined>, last?: () => Promise<string>): Promise<T> {
  try {
    return await eventually(what, probe, timeoutMs, 150);
  } catch (err) {
    const seen = last ? await last().catch(() => '') : '';
    if (!seen) throw err;
    throw new Error(`${(err as Error).message}; last seen:\n${seen}`);
  }
}

async function openQuickInput(page: Page, key: string): Promise<Locator> {
  const input = page.locator(`${quickInput} input.input`);
  // A notification or a focused webview can swallow the first key press: retry until the widget is up.
  await poll(`the quick input (${key})`, 15_000, async () => {
    if (!(await input.isVisible())) {
      await page.keyboard.press(key);
      await input.waitFor({ state: 'visible', timeout: 1500 });
    }
    return true;
  });
  return input;
}

/**
 * Opens the palette and types `text`. A webview that takes the focus back (e.g. re-rendering after a control
 * changed) closes the palette it had just lost the focus to: then open it again, up to three times.
 */
async function openPaletteWith(page: Page, text: string): Promise<Locator> {
  for (let attempt = 1; ; attempt++) {
    const input = await openQuickInput(page, 'F1');
    try {
      await input.fill(text, { timeout: 5_000 });
      return input;
    } catch (e) {
      if (attempt >= 3) throw e;
    }
  }
}

/** Runs a command by its palette title (e.g. "Chapter Telemetry: Start Collection") from F1. */
export async function runCommand(page: Page, title: string, timeoutMs = 20_000): Promise<void> {
  const input = await openPaletteWith(page, `>${title}`);
  const row = page.locator(`${quickInput} .monaco-list-row`, { hasText: title }).first();
  await row.waitFor({ state: 'visible', timeout: timeoutMs }).catch(async (e: Error) => {
    const rows = await page.locator(`${quickInput} .monaco-list-row`).allTextContents();
    await page.keyboard.press('Escape');
    throw new Error(`command "${title}" not in the palette (rows: ${JSON.stringify(rows)}): ${e.message}`);
  });
  await row.click();
  await input.waitFor({ state: 'hidden', timeout: timeoutMs }).catch(() => undefined);
}

/** Whether the palette lists a command titled `title` (waits up to `timeoutMs` for it to show). */
export async function hasCommand(page: Page, title: string, timeoutMs = 5_000): Promise<boolean> {
  await openPaletteWith(page, `>${title}`);
  const row = page.locator(`${quickInput} .monaco-list-row`, { hasText: title }).first();
  const found = await row.waitFor({ state: 'visible', timeout: timeoutMs }).then(() => true, () => false);
  await page.keyboard.press('Escape');
  return found;
}

/** The status bar entry whose DOM id ends with `id` (VS Code ids extension items `<publisher.name>.<id>`). */
export function statusBarItem(page: Page, id: string): Locator {
  return page.locator(`#workbench\\.parts\\.statusbar .statusbar-item[id$="${cssEscape(id)}"]`).first();
}

/** The visible text of a status bar entry (codicons dropped), waiting for it to appear. */
export async function statusBarText(page: Page, id: string, timeoutMs = 20_000): Promise<string> {
  const item = statusBarItem(page, id);
  await item.waitFor({ state: 'attached', timeout: timeoutMs }).catch(async (e: Error) => {
    const ids = await page.locator('#workbench\\.parts\\.statusbar .statusbar-item').evaluateAll((els) => els.map((el) => el.id));
    throw new Error(`status bar item *${id} not found (items: ${ids.join(', ')}): ${e.message}`);
  });
  return ((await item.textContent()) ?? '').replace(/\s+/g, ' ').trim();
}

/** Waits until the status bar entry's text matches `re`; returns the text. */
export async function waitForStatusBarText(page: Page, id: string, re: RegExp, timeoutMs = 30_000): Promise<string> {
  let last = '';
  return await poll(`status bar ${id} to match ${re}`, timeoutMs, async () => {
    last = await statusBarText(page, id, timeoutMs);
    return re.test(last) ? last : undefined;
  }, async () => last);
}

/** The accessible label (tooltip-ish text) of a status bar entry. */
export async function statusBarAriaLabel(page: Page, id: string): Promise<string> {
  const a = statusBarItem(page, id).locator('a, .statusbar-item-label').first();
  return (await a.getAttribute('aria-label')) ?? (await statusBarItem(page, id).getAttribute('aria-label')) ?? '';
}

/** Opens a workspace file through Quick Open (Ctrl+P) and waits for its editor tab to be active. */
export async function openFile(page: Page, relativePath: string, timeoutMs = 20_000): Promise<void> {
  const input = await openQuickInput(page, 'Control+P');
  await input.fill(relativePath);
  const parts = relativePath.split('/');
  const base = parts.pop()!;
  // Recently opened files are listed before the search ends: wait for the row of this very folder, not a namesake.
  let row = page.locator(`${quickInput} .monaco-list-row`, { hasText: base });
  if (parts.length) row = row.filter({ hasText: parts.join('/') });
  row = row.first();
  await row.waitFor({ state: 'visible', timeout: timeoutMs });
  await row.click();
  await page.locator('.tabs-container .tab.active', { hasText: base }).waitFor({ state: 'visible', timeout: timeoutMs });
}

const activeTerminal = '.terminal-wrapper.active';

/** Opens a new integrated terminal and waits for its prompt area to render. */
export async function newTerminal(page: Page, timeoutMs = 30_000): Promise<void> {
  const before = await page.locator('.terminal-wrapper').count();
  await runCommand(page, 'Terminal: Create New Terminal');
  await poll('a new terminal', timeoutMs, async () =>
    (await page.locator('.terminal-wrapper').count()) > before && (await page.locator(`${activeTerminal} .xterm-rows`).isVisible()) ? true : undefined);
  // The shell prints its prompt once it is up: type only after that.
  await waitForTerminalText(page, /[$#]\s*$/m, timeoutMs);
}

/** Types a line into the active terminal and presses Enter. */
export async function typeInTerminal(page: Page, line: string): Promise<void> {
  await page.locator(`${activeTerminal} .xterm`).click();
  await page.keyboard.type(line);
  await page.keyboard.press('Enter');
}

/** The active terminal's visible rows (DOM renderer; set `terminal.integrated.gpuAcceleration: off`). */
export async function terminalText(page: Page): Promise<string> {
  const rows = await page.locator(`${activeTerminal} .xterm-rows > div`).allTextContents();
  return rows.map((r) => r.replace(/\u00a0/g, ' ').trimEnd()).join('\n');
}

/** Waits until the active terminal shows text matching `re`; returns the match. */
export async function waitForTerminalText(page: Page, re: RegExp, timeoutMs = 30_000): Promise<RegExpMatchArray> {
  return await poll(`terminal text ${re}`, timeoutMs, async () => (await terminalText(page)).match(re) ?? undefined, () => terminalText(page));
}

/** End-of-line mark used by runInTerminal to tell real line ends from the terminal's wraps. */
const eol = '@@';

/**
 * Runs a shell line in the active terminal and returns what it printed: the line is framed by two unique markers,
 * so earlier output (and the echo of the typed line itself) is never mistaken for the result. Each output line is
 * given an end mark, so lines the terminal wrapped at its width are joined back.
 */
export async function runInTerminal(page: Page, line: string, timeoutMs = 60_000): Promise<string> {
  const tag = `CT${Date.now().toString(36)}`;
  // The markers are built by the shell (${tag}B + "EGIN"), so the typed command line itself never matches.
  await typeInTerminal(page, `clear; printf '%s\\n' "${tag}B""EGIN"; { ${line} ; } 2>&1 | sed 's/$/${eol}/'; printf '%s\\n' "${tag}E""ND"`);
  const m = await waitForTerminalText(page, new RegExp(`${tag}BEGIN\\n([\\s\\S]*?)${tag}END`), timeoutMs);
  return m[1]!.split(`${eol}\n`).map((l) => l.replace(/\n/g, '')).join('\n').replace(new RegExp(`${eol}\\s*$`), '').trim();
}

/** Waits for a webview frame (webviews are an iframe inside an iframe) that contains `selector`. */
export async function webviewFrame(page: Page, selector: string, timeoutMs = 30_000): Promise<Frame> {
  return await poll(`a webview frame containing ${selector}`, timeoutMs, async () => {
    for (const f of page.frames()) {
      if (f === page.mainFrame()) continue;
      if ((await f.locator(selector).count()) > 0) return f;
    }
    return undefined;
  }, async () => page.frames().map((f) => f.url()).join('\n'));
}

/** Texts of the notification toasts on screen. */
export async function notificationTexts(page: Page): Promise<string[]> {
  return (await page.locator('.notification-toast .notification-list-item-message').allTextContents()).map((t) => t.trim());
}

/**
 * Texts of every notification in the notification center: opened through the palette, read, closed. Where VS Code
 * puts a notification it does not show as a toast: it starts at most 3 toasts per 800 ms (`NotificationsToasts`,
 * a rate limit), so the fourth of a quick burst only raises the bell's count. Opening the center hides the toasts.
 */
export async function notificationCenterTexts(page: Page): Promise<string[]> {
  await runCommand(page, 'Notifications: Show Notifications');
  const center = page.locator('.notifications-center');
  await center.waitFor({ state: 'visible', timeout: 10_000 });
  const texts = (await center.locator('.notification-list-item-message').allTextContents()).map((t) => t.trim());
  await runCommand(page, 'Notifications: Hide Notifications');
  return texts;
}

/**
 * Waits for a notification whose message matches `re`; returns its text. A toast, or, checked every 5 s while no
 * quick input is open (the palette would close it), one in the notification center (notificationCenterTexts: a
 * burst of notifications leaves some out of the toasts).
 */
export async function waitForNotification(page: Page, re: RegExp, timeoutMs = 30_000): Promise<string> {
  let centerCheckedAt = Date.now();
  return await poll(`a notification matching ${re}`, timeoutMs, async () => {
    const toast = (await notificationTexts(page)).find((t) => re.test(t));
    if (toast !== undefined || Date.now() - centerCheckedAt < 5_000 || (await page.locator(`${quickInput} input.input`).isVisible())) return toast;
    centerCheckedAt = Date.now();
    return (await notificationCenterTexts(page)).find((t) => re.test(t));
  }, async () => (await notificationTexts(page)).join('\n'));
}

/** Clicks a button (e.g. "Show Logs") on the notification whose message matches `re`. */
export async function clickNotificationButton(page: Page, re: RegExp, button: string): Promise<void> {
  const toast = page.locator('.notification-toast').filter({ has: page.locator('.notification-list-item-message', { hasText: re }) }).first();
  await toast.locator('.monaco-button', { hasText: button }).first().click();
}

/** Clears every notification so toasts do not cover the status bar or steal focus. */
export async function dismissNotifications(page: Page): Promise<void> {
  if ((await page.locator('.notification-toast').count()) === 0) return;
  await runCommand(page, 'Notifications: Clear All Notifications');
}

/** Switches the colour theme through the palette's theme picker (e.g. "Light Modern", "Dark Modern"). */
export async function setColorTheme(page: Page, theme: string): Promise<void> {
  await runCommand(page, 'Preferences: Color Theme');
  const input = page.locator(`${quickInput} input.input`);
  await input.fill(theme);
  await page.locator(`${quickInput} .monaco-list-row`, { hasText: theme }).first().waitFor({ state: 'visible', timeout: 15_000 });
  await page.keyboard.press('Enter');
  await input.waitFor({ state: 'hidden', timeout: 15_000 }).catch(() => undefined);
}

/** The open quick input's title (VS Code appends the step, e.g. "… (2/5)"), waiting for it to contain `re`. */
export async function waitForQuickInputTitle(page: Page, re: RegExp, timeoutMs = 20_000): Promise<string> {
  const title = page.locator(`${quickInput} .quick-input-title`);
  let last = '';
  return await poll(`a quick input titled ${re}`, timeoutMs, async () => {
    last = ((await title.textContent()) ?? '').trim();
    return (await title.isVisible()) && re.test(last) ? last : undefined;
  }, async () => last);
}

/** Accepts the row of the open quick pick whose text contains `label` (a click accepts a single-select pick). */
export async function pickQuickInputItem(page: Page, label: string, timeoutMs = 20_000): Promise<void> {
  const row = page.locator(`${quickInput} .monaco-list-row`, { hasText: label }).first();
  await row.waitFor({ state: 'visible', timeout: timeoutMs }).catch(async (e: Error) => {
    const rows = await page.locator(`${quickInput} .monaco-list-row`).allTextContents();
    throw new Error(`no quick pick row "${label}" (rows: ${JSON.stringify(rows)}): ${e.message}`);
  });
  await row.click();
}

/**
 * Types `text` into the open input box and presses Enter.
 *
 * A quick pick and an input box share one widget and one text field. Right after a pick's row is
 * clicked, the field on screen may still be the pick's filter (the extension has not opened its
 * input box yet); text typed then filters the old pick, Enter picks nothing, and the input box opens
 * empty afterwards. That race made the history-move test fail now and then. So wait until the widget
 * shows no list rows (an input box has none) and, when given, the input box's own prompt.
 */
export async function submitQuickInput(page: Page, text: string, prompt?: RegExp): Promise<void> {
  const input = page.locator(`${quickInput} input.input`);
  await input.waitFor({ state: 'visible', timeout: 20_000 });
  const rows = page.locator(`${quickInput} .monaco-list-row:visible`);
  const message = page.locator(`${quickInput} .quick-input-message`);
  let seen = '';
  await poll(`an input box${prompt ? ` saying ${prompt}` : ''}`, 20_000, async () => {
    if ((await rows.count()) > 0) return undefined;
    if (!prompt) return true;
    seen = ((await message.textContent()) ?? '').trim();
    return prompt.test(seen) ? true : undefined;
  }, async () => `rows ${await rows.count()}, prompt "${seen}"`);
  await input.fill(text);
  await page.keyboard.press('Enter');
}

/** The quick input's Back button (multi-step inputs). */
export async function quickInputBack(page: Page): Promise<void> {
  await page.locator(`${quickInput} .quick-input-titlebar .action-label[aria-label="Back"], ${quickInput} .quick-input-titlebar [aria-label^="Back"]`).first().click();
}

function cssEscape(s: string): string {
  return s.replace(/["\\]/g, '\\$&');
}

/** Shows the "Chapter Telemetry" activity-bar container (a click on its icon; a second click would hide it). */
export async function openSidebar(page: Page): Promise<void> {
  const icon = page.locator('.activitybar .action-item a[aria-label^="Chapter Telemetry"]').first();
  await icon.waitFor({ state: 'visible', timeout: 60_000 });
  if (await page.locator('.activitybar .action-item.checked a[aria-label^="Chapter Telemetry"]').count() === 0) await icon.click();
}

/** Waits until a webview's body says `data-state` = `state` (loading, ready, empty, unreachable …). */
export async function waitWebviewState(f: Frame, state: string): Promise<void> {
  await f.locator(`body[data-state="${state}"]`).waitFor({ state: 'attached', timeout: 60_000 });
}

/** The number in the `data-value` attribute of the first element matching `selector` (fails if it has none). */
export async function dataValue(f: Frame, selector: string): Promise<number> {
  const v = await f.locator(selector).first().getAttribute('data-value', { timeout: 30_000 });
  if (v === null) throw new Error(`no data-value on ${selector}`);
  return Number(v);
}

/** Rows of a webview table (`table[data-table=id]`) as {data-col: data-value}. */
export async function tableRows(f: Frame, id: string): Promise<Record<string, string>[]> {
  return await f.locator(`table[data-table="${id}"] tbody tr`).evaluateAll((trs) => trs.map((tr) => {
    const o: Record<string, string> = {};
    for (const td of Array.from(tr.querySelectorAll('td[data-col]'))) o[td.getAttribute('data-col')!] = td.getAttribute('data-value') ?? '';
    return o;
  }));
}
