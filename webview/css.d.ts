// esbuild bundles *.css imports of the webview as text (loader '.css': 'text' in esbuild.mjs).
declare module '*.css' {
  const text: string;
  export default text;
}
