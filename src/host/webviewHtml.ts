// The viewer webview's HTML with a strict Content-Security-Policy. Imports nothing from vscode (pure string
// building), so it can be unit-tested.
//
// CSP: no inline script at all (only our bundle, by nonce); styles from our media/ file; the
// @vscode-elements components style themselves with constructable stylesheets (adoptedStyleSheets), which
// CSP does not govern, so no 'unsafe-inline' is needed.

export interface WebviewHtmlParts {
  /** webview.cspSource: the origin our resources are served from. */
  cspSource: string;
  scriptUri: string;
  styleUri: string;
  nonce: string;
  title: string;
}

export function contentSecurityPolicy(cspSource: string, nonce: string): string {
  return [
    `default-src 'none'`,
    `script-src 'nonce-${nonce}'`,
    `style-src ${cspSource}`,
    `img-src ${cspSource} data: blob:`,
    `font-src ${cspSource}`,
  ].join('; ');
}

export function renderWebviewHtml(p: WebviewHtmlParts): string {
  return `<!DOCTYPE html>
<html lang="en">
<head>
  <meta charset="UTF-8">
  <meta http-equiv="Content-Security-Policy" content="${escapeHtml(contentSecurityPolicy(p.cspSource, p.nonce))}">
  <meta name="viewport" content="width=device-width, initial-scale=1.0">
  <link rel="stylesheet" href="${escapeHtml(p.styleUri)}">
  <title>${escapeHtml(p.title)}</title>
</head>
<body>
  <div id="app"></div>
  <script nonce="${p.nonce}" src="${escapeHtml(p.scriptUri)}"></script>
</body>
</html>`;
}

export function escapeHtml(s: string): string {
  return s.replace(/[&<>"']/g, (c) => ({ '&': '&amp;', '<': '&lt;', '>': '&gt;', '"': '&quot;', "'": '&#39;' })[c]!);
}

/** 32 random alphanumerics for the script nonce (crypto-strength: the nonce is the only thing allowing script). */
export function makeNonce(): string {
  const alphabet = 'ABCDEFGHIJKLMNOPQRSTUVWXYZabcdefghijklmnopqrstuvwxyz0123456789';
  const bytes = new Uint8Array(32);
  globalThis.crypto.getRandomValues(bytes);
  let out = '';
  for (const b of bytes) out += alphabet[b % alphabet.length];
  return out;
}
