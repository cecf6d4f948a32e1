/**
 * chart.js, bundled (no CDN), coloured from VS Code's theme variables so light, dark and high-contrast
 * themes all read well. Charts are redrawn when the theme changes (VS Code swaps the body's class).
 */
import { Chart, registerables, type ChartConfiguration } from 'chart.js';

Chart.register(...registerables);

const SERIES_VARS = ['--vscode-charts-blue', '--vscode-charts-orange', '--vscode-charts-green', '--vscode-charts-purple',
  '--vscode-charts-red', '--vscode-charts-yellow', '--vscode-charts-foreground'];
const FALLBACK = ['#3794ff', '#d18616', '#89d185', '#b180d7', '#f14c4c', '#cca700', '#cccccc'];

function cssVar(name: string, fallback: string): string {
  return getComputedStyle(document.body).getPropertyValue(name).trim() || fallback;
}

export function seriesColor(i: number): string {
  const k = i % SERIES_VARS.length;
  return cssVar(SERIES_VARS[k]!, FALLBACK[k]!);
}

export function themeColors(): { text: string; grid: string; font: string } {
  return {
    text: cssVar('--vscode-foreground', '#cccccc'),
    grid: cssVar('--vscode-editorWidget-border', cssVar('--vscode-panel-border', 'rgba(128,128,128,0.35)')),
    font: cssVar('--vscode-font-family', 'sans-serif'),
  };
}

const live = new Set<{ chart: Chart; build: () => ChartConfiguration }>();

/** Draws a chart into `canvas`; `build` is called again on theme changes so colours follow the theme. */
export function drawChart(canvas: HTMLCanvasElement, build: () => ChartConfiguration): void {
  const t = themeColors();
  Chart.defaults.color = t.text;
  Chart.defaults.borderColor = t.grid;
  Chart.defaults.font.family = t.font;
  const entry = { chart: new Chart(canvas, withAnimationOff(build())), build };
  live.add(entry);
}

/** Destroys the charts whose canvases left the document (before a section is re-rendered). */
export function disposeDetached(): void {
  for (const e of live) {
    if (!e.chart.canvas.isConnected) {
      e.chart.destroy();
      live.delete(e);
    }
  }
}

function withAnimationOff(c: ChartConfiguration): ChartConfiguration {
  return { ...c, options: { animation: false, responsive: true, maintainAspectRatio: false, ...c.options } };
}

new MutationObserver(() => {
  const t = themeColors();
  Chart.defaults.color = t.text;
  Chart.defaults.borderColor = t.grid;
  for (const e of live) {
    const next = withAnimationOff(e.build());
    e.chart.data = next.data;
    e.chart.options = next.options ?? {};
    e.chart.update();
  }
}).observe(document.body, { attributes: true, attributeFilter: ['class'] });
