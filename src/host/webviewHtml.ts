// Every StackSeg webview page (viewer, Model panel, job report, Compare Jobs) with one strict
// Content-Security-Policy. Imports nothing from vscode (pure string building), so it can be unit-tested.
//
// CSP: scripts only by nonce (our bundle, or a host-built page's own script); styles from our media/ files or
// by nonce, never 'unsafe-inline'; the @vscode-elements components style themselves with constructable stylesheets (adoptedStyleSheets), which
// CSP does not govern, so no 'unsafe-inline' is needed.

export interface WebviewHtmlParts {
  /** webview.cspSource: the origin our resources are served from. */
  cspSource: string;
  nonce: string;
  title: string;
  /** Our bundle (dist/*.js), allowed by nonce. */
  scriptUri?: string;
  /** Our stylesheet (media/*.css). */
  styleUri?: string;
  /** A page built on the host (job report, comparison): its CSS and script travel inline, allowed by the nonce. */
  inlineStyle?: string;
  inlineScript?: string;
  /** Body markup, already escaped by the caller; default: the app root the bundle renders into. */
  body?: string;
}

/** The one page builder for every StackSeg webview: viewer, Model panel, job report, Compare Jobs. */
export function contentSecurityPolicy(cspSource: string, nonce: string): string {
  return [
    `default-src 'none'`,
    `script-src 'nonce-${nonce}'`,
    `style-src ${cspSource} 'nonce-${nonce}'`,
    `img-src ${cspSource} data: blob:`,
    `font-src ${cspSource}`,
  ].join('; ');
}

export function renderWebviewHtml(p: WebviewHtmlParts): string {
  const head = [
    `<meta charset="UTF-8">`,
    `<meta http-equiv="Content-Security-Policy" content="${escapeHtml(contentSecurityPolicy(p.cspSource, p.nonce))}">`,
    `<meta name="viewport" content="width=device-width, initial-scale=1.0">`,
    p.styleUri ? `<link rel="stylesheet" href="${escapeHtml(p.styleUri)}">` : '',
    p.inlineStyle ? `<style nonce="${p.nonce}">\n${p.inlineStyle}\n</style>` : '',
    `<title>${escapeHtml(p.title)}</title>`,
  ].filter(Boolean);
  const scripts = [
    p.inlineScript ? `<script nonce="${p.nonce}">\n${p.inlineScript}\n</script>` : '',
    p.scriptUri ? `<script nonce="${p.nonce}" src="${escapeHtml(p.scriptUri)}"></script>` : '',
  ].filter(Boolean);
  return `<!DOCTYPE html>
<html lang="en">
<head>
  ${head.join('\n  ')}
</head>
<body>
${p.body ?? '<div id="app"></div>'}
${scripts.join('\n')}
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
