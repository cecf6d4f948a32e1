/** The webviews' HTML shell: strict CSP with a per-load nonce, scripts and styles only from dist/webview and media. */
import { randomBytes } from 'node:crypto';
import * as vscode from 'vscode';

/** Folders a webview may load from: nothing else on disk is reachable. */
export function localRoots(extensionUri: vscode.Uri): vscode.Uri[] {
  return [vscode.Uri.joinPath(extensionUri, 'dist', 'webview'), vscode.Uri.joinPath(extensionUri, 'media')];
}

export function webviewOptions(extensionUri: vscode.Uri): vscode.WebviewOptions {
  return { enableScripts: true, enableCommandUris: false, localResourceRoots: localRoots(extensionUri) };
}

/** `kind` is one of our own constants ("sidebar", "cost", …), never telemetry. */
export function shellHtml(webview: vscode.Webview, extensionUri: vscode.Uri, script: 'sidebar' | 'panel', kind: string, title: string): string {
  const nonce = randomBytes(18).toString('base64');
  const js = webview.asWebviewUri(vscode.Uri.joinPath(extensionUri, 'dist', 'webview', `${script}.js`));
  const css = webview.asWebviewUri(vscode.Uri.joinPath(extensionUri, 'media', 'analytics.css'));
  const csp = [
    `default-src 'none'`,
    `img-src ${webview.cspSource} data:`,
    `style-src ${webview.cspSource}`,
    `font-src ${webview.cspSource}`,
    `script-src 'nonce-${nonce}'`,
  ].join('; ');
  return `<!DOCTYPE html>
<html lang="en">
<head>
<meta charset="UTF-8">
<meta http-equiv="Content-Security-Policy" content="${csp}">
<meta name="viewport" content="width=device-width, initial-scale=1.0">
<link rel="stylesheet" href="${css.toString()}">
<title>${title}</title>
</head>
<body data-kind="${kind}" data-view="${script}">
<header id="header"></header>
<main id="root" aria-live="polite"><p class="muted">Loading…</p></main>
<script nonce="${nonce}" src="${js.toString()}"></script>
</body>
</html>`;
}
