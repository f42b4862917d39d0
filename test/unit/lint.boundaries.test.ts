// The layer rules in eslint.config.mjs (issue 12) fire: lint small snippets as if they sat at a path in the repo.
import { ESLint } from 'eslint';
import { describe, expect, it } from 'vitest';
import { readFileSync } from 'node:fs';
import { resolve } from 'node:path';
// @ts-expect-error: a plain ES module without types
import { WEBVIEW_CORE_ALLOWLIST } from '../../eslint.config.mjs';

const root = resolve(__dirname, '../..');
let eslint: ESLint | undefined;

/** The no-restricted-imports messages for `code` linted as the repo file `file`. */
async function boundaryErrors(file: string, code: string): Promise<string[]> {
  eslint ??= new ESLint({ cwd: root });
  const [result] = await eslint.lintText(code, { filePath: resolve(root, file) });
  return result.messages.filter((m) => m.ruleId === 'no-restricted-imports' && m.severity === 2).map((m) => m.message);
}

describe('eslint import boundaries', () => {
  it('refuses a webview import of a core module outside the allowlist', async () => {
    const errors = await boundaryErrors('webview/x.ts', "import { runJob } from '../src/core/jobs/engine';\nrunJob;\n");
    expect(errors).toHaveLength(1);
    expect(errors[0]).toMatch(/WEBVIEW_CORE_ALLOWLIST/);
    // one folder deeper, same rule
    expect(await boundaryErrors('webview/modelPanel/x.ts', "import '../../src/core/fsutil';\n")).toHaveLength(1);
  });

  it('refuses vscode, node builtins and src/extension in the webview', async () => {
    const code =
      "import * as vscode from 'vscode';\nimport { readFile } from 'node:fs';\nimport { join } from 'path';\n" +
      "import { makeNonce } from '../src/extension/webviewHtml';\nvoid [vscode, readFile, join, makeNonce];\n";
    expect(await boundaryErrors('webview/x.ts', code)).toHaveLength(4);
  });

  it('refuses vscode, src/extension and webview/ in core', async () => {
    expect(await boundaryErrors('src/core/x.ts', "import * as vscode from 'vscode';\nvoid vscode;\n")).toHaveLength(1);
    expect(
      await boundaryErrors('src/core/jobs/x.ts', "import { a } from '../../extension/api';\nvoid a;\n"),
    ).toHaveLength(1);
    expect(await boundaryErrors('src/core/x.ts', "import { b } from '../../webview/keys';\nvoid b;\n")).toHaveLength(1);
  });

  it('refuses vscode and node builtins in the shared protocol files', async () => {
    expect(await boundaryErrors('src/protocol.ts', "import * as vscode from 'vscode';\nvoid vscode;\n")).toHaveLength(
      1,
    );
    expect(await boundaryErrors('src/shared/x.ts', "import { join } from 'node:path';\nvoid join;\n")).toHaveLength(1);
  });

  it('allows the browser-safe modules, the protocols, and node in core', async () => {
    const webview =
      "import { blockMean } from '../src/core/pyramid';\nimport { encodeRle } from '../src/core/labels/rle';\n" +
      "import type { HostToWebview } from '../src/protocol';\nimport { keyFor } from './keys';\nvoid [blockMean, encodeRle, keyFor];\n" +
      'export type T = HostToWebview;\n';
    expect(await boundaryErrors('webview/x.ts', webview)).toEqual([]);
    expect(
      await boundaryErrors(
        'webview/modelPanel/x.ts',
        "import { MODEL_KINDS } from '../../src/core/models/registry';\n" +
          "import type { PanelToHost } from '../../src/modelPanelProtocol';\nvoid MODEL_KINDS;\nexport type T = PanelToHost;\n",
      ),
    ).toEqual([]);
    expect(
      await boundaryErrors(
        'src/core/x.ts',
        "import { readFile } from 'node:fs/promises';\nimport { StackSegError } from './errors';\n" +
          'void [readFile, StackSegError];\n',
      ),
    ).toEqual([]);
    expect(await boundaryErrors('src/extension/x.ts', "import * as vscode from 'vscode';\nvoid vscode;\n")).toEqual([]);
  });

  it('typechecks every allowlisted core module without DOM and node types (tsconfig.shared.json)', () => {
    const include: string[] = JSON.parse(readFileSync(resolve(root, 'tsconfig.shared.json'), 'utf8')).include;
    for (const m of WEBVIEW_CORE_ALLOWLIST as string[]) expect(include).toContain(`src/core/${m}.ts`);
  });
});
