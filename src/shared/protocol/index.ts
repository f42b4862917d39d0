// Messages between the extension host (src/extension, src/host) and the stack viewer webview (webview/).
// Both sides import this folder as 'src/shared/protocol'. It imports nothing from 'vscode' or the DOM so it runs in
// either place and in unit tests. The host treats everything from the webview as untrusted: every message goes
// through parseWebviewMessage before it is acted on.
//   hostToWebview.ts  host -> webview messages, packed binaries, dtypes
//   webviewToHost.ts  webview -> host messages and parseWebviewMessage
//   undoState.ts      the webview's checks of prepared undo/redo steps
//   validate.ts       the checks every webview message parser is built from (also src/shared/modelPanelProtocol.ts)

export * from './hostToWebview';
export * from './webviewToHost';
export * from './undoState';
