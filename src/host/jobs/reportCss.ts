// The look of the pages the host builds from job files (job report, Compare Jobs): VS Code's theme colours, shared
// so the two pages match. Sent inline with the page's nonce (src/host/webviewHtml.ts).
export const REPORT_CSS = `
body{font-family:var(--vscode-font-family);font-size:var(--vscode-font-size);color:var(--vscode-foreground);padding:0 16px 24px}
h1{font-size:1.3em;font-weight:600} h2{font-size:1.05em;margin-top:20px}
table{border-collapse:collapse} td,th{padding:3px 12px 3px 0;text-align:left;vertical-align:top}
th{color:var(--vscode-descriptionForeground);font-weight:normal}
.k,.note{color:var(--vscode-descriptionForeground)}
svg[role=img]{background:var(--vscode-editorWidget-background);border:1px solid var(--vscode-widget-border,transparent)}
svg .grid{stroke:var(--vscode-editorLineNumber-foreground);stroke-opacity:.25} svg text{fill:var(--vscode-foreground);font-size:11px}
svg .title{font-weight:600;font-size:12px} svg .tick,svg .axis{fill:var(--vscode-descriptionForeground)}
.status-succeeded{color:var(--vscode-testing-iconPassed)} .status-failed{color:var(--vscode-testing-iconFailed)}
`;
