// Finding the user's Python for the torch backend, and what it has (torch, CUDA, GPUs).
// Order: STACKSEG_PYTHON (the extension sets it from the Python extension's selected interpreter, else the
// `stackseg.python` setting: src/extension/pythonEnv.ts), then python3 (python on Windows) on PATH.
// Run without a shell; one probe per process and interpreter.

import { execFile } from 'node:child_process';
import { existsSync } from 'node:fs';
import { join, resolve } from 'node:path';
import { StackSegError } from '../../../shared/errors';

export const SCRIPT_NAME = 'stackseg_msdnet.py';

export interface PythonInfo {
  python: string; // the command run
  version: string; executable: string;
  torch: string; cuda: string | null; cudaAvailable: boolean; mps: boolean; devices: string[];
}

/** The interpreter command and where it came from (for messages). */
export function pythonCommand(env: NodeJS.ProcessEnv = process.env): { command: string; source: string } {
  const chosen = env.STACKSEG_PYTHON?.trim();
  if (chosen) return { command: chosen, source: 'STACKSEG_PYTHON (the Python extension\'s interpreter or the stackseg.python setting)' };
  return { command: process.platform === 'win32' ? 'python' : 'python3', source: 'PATH' };
}

/** python/stackseg_msdnet.py: beside the bundle (dist/../python), in the source tree, or STACKSEG_PYTHON_SCRIPT. */
export function scriptPath(): string {
  const candidates = [process.env.STACKSEG_PYTHON_SCRIPT, typeof __dirname === 'string' ? join(__dirname, '..', 'python', SCRIPT_NAME) : undefined,
    typeof __dirname === 'string' ? join(__dirname, '..', '..', '..', '..', 'python', SCRIPT_NAME) : undefined, resolve('python', SCRIPT_NAME)];
  const found = candidates.find((c) => c && existsSync(c));
  if (!found) throw new StackSegError(`the torch backend script ${SCRIPT_NAME} is missing`, { hint: 'reinstall the StackSeg extension (it ships python/)' });
  return found;
}

/** One error line of the script ({"event":"error",code,message}) as a StackSegError with the fix. */
export function scriptError(code: string, message: string, python: string): StackSegError {
  const hints: Record<string, string> = {
    'no-torch': `install PyTorch into that Python (pip install torch, or a conda/module environment), or choose a Python that has it (VS Code: "Python: Select Interpreter" or the stackseg.python setting); or run with --set backend=native`,
    'no-numpy': 'pip install numpy into that Python',
    'no-cuda': 'check nvidia-smi and that torch was built for CUDA (torch.version.cuda), use --set device=cpu, or leave backend=auto to fall back to the CPU',
    'no-mps': 'use --set device=auto or cpu',
    'out-of-memory': 'segment or train smaller slices, or use another GPU (--set device=cuda:N)',
  };
  return new StackSegError(`torch backend (${python}): ${message}`, { hint: hints[code] ?? 'see the job log', code: `torch-${code}` });
}

let probes = new Map<string, Promise<PythonInfo>>();

/** Runs `stackseg_msdnet.py probe`; rejects with one clear StackSegError when Python, numpy or torch is missing. */
export function probePython(env: NodeJS.ProcessEnv = process.env): Promise<PythonInfo> {
  const { command, source } = pythonCommand(env);
  let p = probes.get(command);
  if (!p) {
    p = new Promise<PythonInfo>((resolvePromise, reject) => {
      execFile(command, [scriptPath(), 'probe'], { timeout: 120_000, env }, (err, stdout) => {
        const line = stdout.trim().split('\n').pop() ?? '';
        let json: Record<string, unknown> | undefined;
        try { json = JSON.parse(line); } catch { /* not JSON */ }
        if (json?.event === 'error') return reject(scriptError(String(json.code), String(json.message), command));
        if (err || !json) {
          const e = err as NodeJS.ErrnoException | null;
          if (e?.code === 'ENOENT' || e?.code === 'EACCES') {
            return reject(new StackSegError(`Python not found: "${command}" (from ${source}) cannot be run`, {
              hint: 'install Python 3 with torch and numpy, select it in VS Code ("Python: Select Interpreter") or set stackseg.python / STACKSEG_PYTHON; or run with --set backend=native', code: 'torch-no-python' }));
          }
          return reject(new StackSegError(`"${command} ${SCRIPT_NAME} probe" failed: ${(e?.message ?? line).split('\n')[0]}`, { hint: 'check that this is Python 3.8 or newer', code: 'torch-probe' }));
        }
        resolvePromise({ python: command, version: String(json.python), executable: String(json.executable), torch: String(json.torch),
          cuda: (json.cuda as string | null) ?? null, cudaAvailable: json.cudaAvailable === true, mps: json.mps === true, devices: (json.devices as string[]) ?? [] });
      });
    });
    probes.set(command, p);
  }
  return p;
}

/** For tests: forget cached probes. */
export function resetPythonProbes(): void { probes = new Map(); }
