// `stackseg` command line (contract in docs/formats.md): JSON on stdout, progress as JSON lines on stderr with
// `--progress json`, exit 0 on success, 1 on failure (one clear line on stderr), 2 on a usage error.
// The extension's worker process and Slurm tasks run this same file.

import { parseArgs } from 'node:util';
import { StackSegError, UsageError } from '../shared/errors';
import { commandCancel, commandChunk, commandEval, commandInfo, commandMerge, commandRetry, commandStatus, commandRun, commandSample, commandSegment, commandTrain, type CliContext } from './commands';

const USAGE = `usage: stackseg <command> [options]

  info    <image>                                      stack dimensions, dtype, compression as JSON
  train   --image I --labels L --model rf|kmeans|threshold|msdnet [--set key=value]... [--out JOBDIR]
  segment --job JOBDIR --image I [--slices a:b] [--out MASK [--force] | --dir NEWJOBDIR] [--truth T [--class 2=1]...]
                                                       (--force: replace an existing MASK; never an input)
  segment --job JOBDIR --image A --image B... | --images DIR|"DIR/*.tif" [--out BATCHDIR] [--truth auto]
                                                       a batch: one job per stack (beside it), batch.json in BATCHDIR;
                                                       locally a queue, with --runner slurm one array (stacks x chunks)
  run     --image I --labels L --model M [--set key=value]... [--out JOBDIR] [--truth T [--class 2=1]...]
  eval    --pred MASK|--job JOBDIR --truth T [--class 2=1]...   per-class and mean F1/IoU, per-slice table
                                                       (with --job: recorded in the job's metrics.json)
  sample  --out DIR [--size WxHxD] [--seed N] [--force] writes the demo stack, its labels and truth
  params  [model]                                      lists models and their parameters with defaults
  compare JOBDIR... [--csv]                            jobs side by side: per-class F1/IoU (where truth is known),
                                                       time, backend and parameters, as JSON (or CSV with --csv)

  Slurm (train, segment, run and batches with --runner slurm):
  train|segment|run ... --runner slurm [--chunks N] [--partition P] [--account A] [--time T] [--gpus N]
          [--sbatch-arg X]... [--node-path NODE] [--detach]   train by sbatch; segment as an array of N chunks
                                                       writing into one preallocated mask (no merge step)
  status  --job JOBDIR | --batch BATCHDIR              job (or each stack's) and Slurm step states
  cancel  --job JOBDIR | --batch BATCHDIR              scancel every step; marked cancelled
  retry   --job JOBDIR | --batch BATCHDIR [--detach]   rerun only what failed (Slurm: only the failed chunks)
  chunk   --job JOBDIR --chunk I                       (one array task; run by Slurm)
  merge   --job JOBDIR                                 finish a job whose chunks are all done (verify, rename)

  A job folder (--out JOBDIR, --dir) must be new or empty; a folder holding other files, another job, /, the
  home or current folder is refused. A second job writing into the same folder is refused (JOBDIR/.lock).

options: --progress json   progress events as JSON lines on stderr
         --help            this text`;

const OPTIONS = {
  image: { type: 'string', multiple: true }, images: { type: 'string', multiple: true }, chunk: { type: 'string' }, batch: { type: 'string' }, labels: { type: 'string' }, model: { type: 'string' }, set: { type: 'string', multiple: true },
  out: { type: 'string' }, job: { type: 'string' }, slices: { type: 'string' }, pred: { type: 'string' },
  truth: { type: 'string' }, class: { type: 'string', multiple: true }, progress: { type: 'string' },
  size: { type: 'string' }, seed: { type: 'string' }, help: { type: 'boolean', short: 'h' },
  runner: { type: 'string' }, chunks: { type: 'string' }, partition: { type: 'string' }, account: { type: 'string' },
  time: { type: 'string' }, gpus: { type: 'string' }, 'sbatch-arg': { type: 'string', multiple: true },
  'node-path': { type: 'string' }, detach: { type: 'boolean' }, dir: { type: 'string' },
  force: { type: 'boolean' }, csv: { type: 'boolean' },
} as const;

export async function main(argv: string[]): Promise<number> {
  let parsed;
  try {
    parsed = parseArgs({ args: argv, options: OPTIONS, allowPositionals: true, strict: true });
  } catch (e) {
    process.stderr.write(`stackseg: ${(e as Error).message}\n${USAGE}\n`);
    return 2;
  }
  const { positionals } = parsed;
  const [command, ...rest] = positionals;
  // --image repeats only for a batch (segment); elsewhere it names one stack.
  const imageList = parsed.values.image ?? [];
  if (imageList.length > 1 && command !== 'segment') {
    process.stderr.write(`stackseg: ${command ?? 'this command'} takes one --image\n`);
    return 2;
  }
  const values = { ...parsed.values, image: imageList[imageList.length - 1], 'image-list': imageList };
  if (values.help || !command) {
    (values.help ? process.stdout : process.stderr).write(USAGE + '\n');
    return values.help ? 0 : 2;
  }
  if (values.progress !== undefined && values.progress !== 'json') {
    process.stderr.write(`stackseg: --progress takes "json"\n`);
    return 2;
  }
  const controller = new AbortController();
  const onSignal = () => controller.abort();
  process.once('SIGINT', onSignal);
  process.once('SIGTERM', onSignal);
  const ctx: CliContext = {
    values, positionals: rest, signal: controller.signal,
    progress: values.progress === 'json' ? (ev) => process.stderr.write(JSON.stringify(ev) + '\n') : () => {},
  };
  try {
    const commands: Record<string, (c: CliContext) => Promise<unknown>> = {
      info: commandInfo, train: commandTrain, segment: commandSegment, run: commandRun,
      eval: commandEval, sample: commandSample, merge: commandMerge, chunk: commandChunk, status: commandStatus, cancel: commandCancel, retry: commandRetry, params: async (c) => (await import('./commands')).commandParams(c),
      compare: async (c) => (await import('./commands')).commandCompare(c),
    };
    const fn = commands[command];
    if (!fn) throw new UsageError(`unknown command "${command}"`, `commands: ${Object.keys(commands).join(', ')}`);
    const result = await fn(ctx);
    // Text (compare --csv) is printed as is; everything else as JSON.
    process.stdout.write(typeof result === 'string' ? result : JSON.stringify(result, null, 2) + '\n');
    return 0;
  } catch (e) {
    // A batch where some stacks failed: its summary still goes to stdout.
    const partial = (e as { result?: unknown }).result;
    if (e instanceof StackSegError && partial !== undefined) process.stdout.write(JSON.stringify(partial, null, 2) + '\n');
    if (e instanceof UsageError) {
      process.stderr.write(`stackseg: ${e.message}\n`);
      return 2;
    }
    const msg = e instanceof StackSegError ? e.message : controller.signal.aborted ? 'cancelled' : String((e as Error)?.stack ?? e);
    process.stderr.write(`stackseg: ${msg.split('\n')[0]}\n`);
    if (!(e instanceof StackSegError) && process.env.STACKSEG_DEBUG) process.stderr.write(String((e as Error)?.stack) + '\n');
    return 1;
  } finally {
    process.off('SIGINT', onSignal);
    process.off('SIGTERM', onSignal);
  }
}

/** Entry used by bin/stackseg.js and by `node dist/cli.js`. */
export function runFromProcess(): void {
  main(process.argv.slice(2)).then((code) => { process.exitCode = code; });
}

if (typeof require !== 'undefined' && require.main === module) runFromProcess();
