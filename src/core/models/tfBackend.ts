// Picks the tfjs backend once per process: tfjs-node-gpu (CUDA) when the user's node has it installed, else wasm
// (XNNPACK, single-threaded in Node), else the pure-JS cpu backend. Only tfjs-core + backends are used, never the
// @tensorflow/tfjs umbrella. The chosen name and why the others were skipped go into the job record.

import * as tf from '@tensorflow/tfjs-core';
import '@tensorflow/tfjs-core/dist/register_all_gradients'; // tfjs-core alone ships no gradients
import { version_cpu } from '@tensorflow/tfjs-backend-cpu'; // used, so bundlers keep its kernel registrations
import { setWasmPaths } from '@tensorflow/tfjs-backend-wasm'; // also registers the 'wasm' backend
import { existsSync } from 'node:fs';
import { createRequire } from 'node:module';
import { dirname, join } from 'node:path';
import { UsageError } from '../../shared/errors';

export type BackendPreference = 'auto' | 'gpu' | 'wasm' | 'cpu';
export interface BackendInfo { backend: string; detail: string }

const WASM_FILE = 'tfjs-backend-wasm.wasm';
let current: Promise<BackendInfo> | undefined;
let currentPreference: BackendPreference | undefined;

/** A require that works from the esbuild CJS bundle (dist/) and from vitest (ESM transform of the .ts source). */
function nodeRequire(): NodeRequire {
  if (typeof require === 'function') return require;
  return createRequire(join(process.cwd(), 'noop.js'));
}

/** Folders that may hold the .wasm binaries: beside the bundle (esbuild.mjs copies them to dist/), or the package. */
function wasmDirCandidates(): string[] {
  const dirs: string[] = [];
  if (process.env.STACKSEG_WASM_DIR) dirs.push(process.env.STACKSEG_WASM_DIR);
  if (typeof __dirname === 'string') dirs.push(__dirname);
  try {
    dirs.push(join(dirname(nodeRequire().resolve('@tensorflow/tfjs-backend-wasm/package.json')), 'dist'));
  } catch { /* package not resolvable from here; try the working directory below */ }
  dirs.push(join(process.cwd(), 'node_modules/@tensorflow/tfjs-backend-wasm/dist'), join(process.cwd(), 'dist'));
  return dirs;
}

export function findWasmDir(): string | undefined {
  return wasmDirCandidates().find((d) => existsSync(join(d, WASM_FILE)));
}

async function tryGpu(): Promise<string> {
  // Loaded by name at run time: it is not a dependency (its install downloads libtensorflow + needs CUDA 11.2/cuDNN 8).
  const moduleName = '@tensorflow/tfjs-node-gpu';
  nodeRequire()(moduleName);
  if (!(await tf.setBackend('tensorflow'))) throw new Error('tfjs-node-gpu loaded but the "tensorflow" backend did not start');
  return `${moduleName} (tensorflow backend)`;
}

async function tryWasm(): Promise<string> {
  const dir = findWasmDir();
  if (!dir) throw new Error(`${WASM_FILE} not found in ${wasmDirCandidates().join(', ')}`);
  setWasmPaths(dir.endsWith('/') ? dir : dir + '/');
  if (!(await tf.setBackend('wasm'))) throw new Error('wasm backend failed to initialise');
  return `wasm binaries from ${dir}`;
}

async function choose(prefer: BackendPreference): Promise<BackendInfo> {
  const skipped: string[] = [];
  const attempts: Array<[string, () => Promise<string>]> = [];
  if (prefer === 'auto' || prefer === 'gpu') attempts.push(['tensorflow', tryGpu]);
  if (prefer === 'auto' || prefer === 'gpu' || prefer === 'wasm') attempts.push(['wasm', tryWasm]);
  attempts.push(['cpu', async () => { await tf.setBackend('cpu'); return `pure JavaScript (tfjs-backend-cpu ${version_cpu})`; }]);
  for (const [name, attempt] of attempts) {
    try {
      const how = await attempt();
      await tf.ready();
      const detail = [how, ...skipped.map((s) => `skipped ${s}`)].join('; ');
      return { backend: tf.getBackend() ?? name, detail };
    } catch (e) {
      const reason = (e instanceof Error ? e.message : String(e)).split('\n')[0];
      skipped.push(`${name === 'tensorflow' ? 'gpu' : name}: ${reason}`);
    }
  }
  throw new Error(`no tfjs backend could start: ${skipped.join('; ')}`);
}

/**
 * Initialises tfjs once (later calls with the same preference return the same answer).
 * 'gpu' falls back to wasm/cpu with the reason in `detail`; 'wasm' never tries the GPU; 'cpu' is pure JS.
 */
export function initBackend(prefer: BackendPreference = 'auto'): Promise<BackendInfo> {
  if (!['auto', 'gpu', 'wasm', 'cpu'].includes(prefer)) {
    throw new UsageError(`unknown tfjs backend "${prefer}"`, 'use auto, gpu, wasm or cpu');
  }
  if (!current || currentPreference !== prefer) {
    currentPreference = prefer;
    current = choose(prefer);
  }
  return current;
}

export { tf };
