// Big format libraries (h5wasm ~6 MB, zarrita + its WebAssembly codecs ~1.5 MB) are not bundled into the
// extension and CLI: esbuild writes each as its own file beside them (dist/<name>.js), loaded on first use, so
// opening a TIFF never parses them. Run from source (tests), the npm package is imported instead.

import { existsSync } from 'node:fs';
import { createRequire } from 'node:module';
import { join } from 'node:path';

export async function loadLib<T>(bundleName: string, npmSpecifier: string): Promise<T> {
  const bundled = typeof __dirname === 'string' ? join(__dirname, `${bundleName}.js`) : '';
  // A variable specifier keeps esbuild from inlining the package into the calling bundle.
  const spec = npmSpecifier;
  const mod = bundled && existsSync(bundled) ? createRequire(bundled)(bundled) : await import(/* @vite-ignore */ spec);
  return mod as T;
}
