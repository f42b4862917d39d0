// The defaults on stacks they were not tuned on (bench/heldout_phantom.ts: 3-class grains), run as a user runs them:
// `stackseg run --model M` through the CLI with nothing but --set seed=S, then F1 per class from the job's summary.
// Prints one line per (stack, model, seed): per-class F1, their mean, training and total seconds.
//   node bench/heldout.mjs [--stacks clean,noisy,blurry,clean2,noisy2,blurry2] [--models rf,msdnet] [--seeds 0,1] [--set key=value]... [--rf-set key=value]...
import { mkdirSync } from 'node:fs';
import { spawnSync } from 'node:child_process';
import { join } from 'node:path';
import { tmpdir } from 'node:os';
import { writeGrains, type GrainOptions } from './heldout_phantom';

const STACKS: Record<string, GrainOptions> = {
  clean: { noise: 0.03, blur: 1.0, seed: 7 },
  noisy: { noise: 0.12, blur: 1.2, seed: 8 },
  blurry: { noise: 0.05, blur: 2.2, rings: 0.04, seed: 9, width: 288, height: 352 },
  // two classes (air, grain), as the foam benchmark scores
  clean2: { noise: 0.03, blur: 1.0, seed: 10, inclusions: false },
  noisy2: { noise: 0.15, blur: 1.2, seed: 11, inclusions: false, width: 256, height: 256 },
  blurry2: { noise: 0.05, blur: 2.2, rings: 0.04, seed: 12, width: 288, height: 352, inclusions: false },
};
const args = process.argv.slice(2);
const arg = (n: string, d: string) => { const i = args.indexOf(n); return i >= 0 ? args[i + 1] : d; };
// --set goes to msdnet jobs, --rf-set to rf jobs (e.g. the teacher's depth on its own: --rf-set depth=6)
const setsOf = (flag: string) => args.flatMap((a, i) => (a === flag ? ['--set', args[i + 1]] : []));
const sets: Record<string, string[]> = { msdnet: setsOf('--set'), rf: setsOf('--rf-set') };

async function main() {
  const root = join(tmpdir(), 'stackseg-heldout');
  for (const name of arg('--stacks', Object.keys(STACKS).join(',')).split(',')) {
    const dir = join(root, name);
    mkdirSync(dir, { recursive: true });
    const { image, truth, labels, stack } = await writeGrains(dir, STACKS[name]);
    const labelled = stack.labels.reduce((s, v) => s + (v > 0 ? 1 : 0), 0);
    console.log(`${name}: ${stack.width}x${stack.height}x${stack.depth}, ${labelled} labelled pixels on slice ${stack.depth >> 1}`);
    for (const model of arg('--models', 'rf,msdnet').split(',')) {
      for (const seed of arg('--seeds', '0').split(',')) {
        const classes = (STACKS[name].inclusions === false ? [1, 2] : [1, 2, 3]).flatMap((c) => ['--class', `${c}=${c}`]);
        const cli = ['bin/stackseg.js', 'run', '--image', image, '--labels', labels, '--model', model, '--truth', truth, ...classes, '--set', `seed=${seed}`, ...(sets[model] ?? [])];
        const t0 = performance.now();
        const r = spawnSync(process.execPath, cli, { encoding: 'utf8', maxBuffer: 1 << 26 });
        const seconds = (performance.now() - t0) / 1000;
        if (r.status !== 0) { console.log(`  ${model} seed ${seed}: FAILED ${r.stderr.trim().split('\n').pop()}`); continue; }
        const out = JSON.parse(r.stdout);
        console.log(`  ${model} seed ${seed}: ${describe(out)}; ${seconds.toFixed(0)} s in all`);
      }
    }
  }
}

function describe(out: { summary?: { meanF1?: number; classF1?: Record<string, number> }; timings?: Record<string, number> }): string {
  const f1 = Object.values(out.summary?.classF1 ?? {}).map((v) => v.toFixed(4)).join(' ');
  return `F1 per class ${f1}, mean ${out.summary?.meanF1?.toFixed(4)}; train ${out.timings?.train?.toFixed(0)} s, segment ${out.timings?.segment?.toFixed(0)} s`;
}
main().catch((e) => { console.error(e); process.exit(1); });
