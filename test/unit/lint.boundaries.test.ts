// The layer rules in eslint.config.mjs (issue 12) fire: lint small snippets as if they sat at a path in the repo.
import { ESLint } from 'eslint';
import { describe, expect, it } from 'vitest';
import { readdirSync, readFileSync, statSync } from 'node:fs';
import { join, relative, resolve } from 'node:path';

const root = resolve(__dirname, '../..');
let eslint: ESLint | undefined;

/** The no-restricted-imports messages for `code` linted as the repo file `file`. */
async function boundaryErrors(file: string, code: string): Promise<string[]> {
  eslint ??= new ESLint({ cwd: root });
  const [result] = await eslint.lintText(code, { filePath: resolve(root, file) });
  return result.messages.filter((m) => m.ruleId === 'no-restricted-imports' && m.severity === 2).map((m) => m.message);
}

describe('eslint import boundaries', () => {
  it('refuses a webview import of anything under src/ but src/shared', async () => {
    const errors = await boundaryErrors('webview/x.ts', "import { runJob } from '../src/core/jobs/runJob';\nrunJob;\n");
    expect(errors).toHaveLength(1);
    expect(errors[0]).toMatch(/only src\/shared/);
    // one folder deeper, same rule
    expect(await boundaryErrors('webview/modelPanel/x.ts', "import '../../src/core/fsutil';\n")).toHaveLength(1);
    expect(await boundaryErrors('webview/x.ts', "import '../src/host/sliceQueue';\n")).toHaveLength(1);
  });

  it('refuses vscode, node builtins and src/extension in the webview', async () => {
    const code =
      "import * as vscode from 'vscode';\nimport { readFile } from 'node:fs';\nimport { join } from 'path';\n" +
      "import { makeNonce } from '../src/extension/stackEditorProvider';\nvoid [vscode, readFile, join, makeNonce];\n";
    expect(await boundaryErrors('webview/x.ts', code)).toHaveLength(4);
  });

  it('refuses vscode and the outer layers in core', async () => {
    expect(await boundaryErrors('src/core/x.ts', "import * as vscode from 'vscode';\nvoid vscode;\n")).toHaveLength(1);
    expect(
      await boundaryErrors('src/core/jobs/x.ts', "import { a } from '../../extension/api';\nvoid a;\n"),
    ).toHaveLength(1);
    expect(await boundaryErrors('src/core/x.ts', "import { b } from '../../webview/keys';\nvoid b;\n")).toHaveLength(1);
    expect(await boundaryErrors('src/core/x.ts', "import { c } from '../host/sliceQueue';\nvoid c;\n")).toHaveLength(1);
    expect(await boundaryErrors('src/core/x.ts', "import { d } from '../cli/commands';\nvoid d;\n")).toHaveLength(1);
  });

  it('refuses vscode in src/host and src/cli', async () => {
    expect(await boundaryErrors('src/host/x.ts', "import * as vscode from 'vscode';\nvoid vscode;\n")).toHaveLength(1);
    expect(await boundaryErrors('src/cli/x.ts', "import * as vscode from 'vscode';\nvoid vscode;\n")).toHaveLength(1);
    expect(await boundaryErrors('src/host/x.ts', "import { e } from '../extension/api';\nvoid e;\n")).toHaveLength(1);
  });

  it('refuses vscode, node builtins and every other layer in src/shared', async () => {
    expect(await boundaryErrors('src/shared/protocol.ts', "import * as vscode from 'vscode';\nvoid vscode;\n")).toHaveLength(
      1,
    );
    expect(await boundaryErrors('src/shared/x.ts', "import { join } from 'node:path';\nvoid join;\n")).toHaveLength(1);
    expect(await boundaryErrors('src/shared/x.ts', "import { f } from '../core/fsutil';\nvoid f;\n")).toHaveLength(1);
  });

  it('allows shared in the webview, and node in core, cli and host', async () => {
    const webview =
      "import { blockMean } from '../src/shared/pyramid';\nimport { encodeRle } from '../src/shared/labels/rle';\n" +
      "import type { HostToWebview } from '../src/shared/protocol';\nimport { keyFor } from './keys';\n" +
      'void [blockMean, encodeRle, keyFor];\nexport type T = HostToWebview;\n';
    expect(await boundaryErrors('webview/x.ts', webview)).toEqual([]);
    const node = "import { readFile } from 'node:fs/promises';\nimport { StackSegError } from '../shared/errors';\n" +
      'void [readFile, StackSegError];\n';
    for (const f of ['src/core/x.ts', 'src/cli/x.ts', 'src/host/x.ts']) expect(await boundaryErrors(f, node)).toEqual([]);
    expect(await boundaryErrors('src/extension/x.ts', "import * as vscode from 'vscode';\nvoid vscode;\n")).toEqual([]);
  });

  it('typechecks src/shared without DOM and node types (tsconfig.shared.json)', () => {
    const config = JSON.parse(readFileSync(resolve(root, 'tsconfig.shared.json'), 'utf8'));
    expect(config.include).toEqual(['src/shared']);
    expect(config.compilerOptions.types).toEqual([]);
    expect(config.compilerOptions.lib).not.toContain('DOM');
  });

  it('leaves no source file outside tests over 400 lines', () => {
    const long: string[] = [];
    const walk = (dir: string) => {
      for (const name of readdirSync(dir)) {
        const p = join(dir, name);
        if (statSync(p).isDirectory()) walk(p);
        else if (p.endsWith('.ts') && readFileSync(p, 'utf8').split('\n').length > 400) long.push(relative(root, p));
      }
    };
    walk(join(root, 'src'));
    walk(join(root, 'webview'));
    expect(long).toEqual([]);
  });
});
