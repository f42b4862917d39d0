// StackSeg MSDNet on the foam benchmark (shared/data/foam/README.md): train on slice 0 with sparse_labels_slice0.tif
// (1 = background, 2 = foam), segment all 32 slices, F1 of label 2 against truth 1, averaged over slices.
// Run through bench/quality_msdnet.mjs. Options: --variants hq,noisy --epochs 200 --pseudo --no-tta --seed 0
// --teacher: also the Random Forest teacher's F1 on every slice (it predicts all of them), and how often the two agree.
// --set key=value (registry msdnet parameters, e.g. --set contextSlices=1 for 2.5-D: 3 slices as input channels).
// --ensemble N: N models (seeds S, S+100, ...) whose softmax is averaged (an experiment: train_s and segment_s add up).
// Trains through MsdnetSegmenter.train as a job does (the Random Forest teacher, contextSlices=-1 auto, engine choice).
import { openStack } from '../src/core/tiff';
import { MsdnetSegmenter } from '../src/core/models/msdnet/msdnetSegmenter';
import { fitNormalizationFromSource } from '../src/core/models/normalize';
import { resolveParams } from '../src/shared/models/registry';
import { forestTeacher } from '../src/core/models/msdnet/teacher';
import type { Segmenter, ZContext } from '../src/core/models/segmenter';

const args = process.argv.slice(2);
const arg = (n: string, d: string) => { const i = args.indexOf(n); return i >= 0 ? args[i + 1] : d; };
const dataDir = arg('--data', '/work/shared/data/foam');
const variants = arg('--variants', 'hq,fewangles,limitedrange,noisy,noisy_fewangles,rings').split(',');
// --defaults: the registry's msdnet defaults (what `stackseg run --model msdnet` uses with no --set). Without it, the
// older bench settings: 200 epochs, no time budget or plateau stop, pseudo-labels only with --pseudo (the fill).
const useDefaults = args.includes('--defaults');
const seed = Number(arg('--seed', '0'));
const tta = !args.includes('--no-tta');
const withTeacher = args.includes('--teacher');
const overrides: Record<string, string> = {};
args.forEach((a, i) => { if (a === '--set') { const [k, v] = args[i + 1].split('='); overrides[k] = v; } });
const legacy: Record<string, string> = useDefaults ? {} : { epochs: '200', maxSeconds: '0', plateau: 'false', pseudoLabels: args.includes('--pseudo') ? 'fill' : 'off' };
if (args.includes('--epochs')) legacy.epochs = arg('--epochs', '200');
const params = resolveParams('msdnet', { ...legacy, seed: String(seed), tta: String(tta), ...overrides });
const setOnly = Object.fromEntries(Object.keys(overrides).map((k) => [k, params[k]]));
const ensemble = Math.max(1, Number(arg('--ensemble', '1')));

const toFloat = (a: ArrayLike<number>) => (a instanceof Float32Array ? a : Float32Array.from(a));

async function main() {
  const labels = await openStack(`${dataDir}/sparse_labels_slice0.tif`);
  const sparse = Uint8Array.from(await labels.readSlice(0));
  const truth = await openStack(`${dataDir}/truth.tif`);
  const results: Record<string, { f1: number; tp: number; fp: number; fn: number; teacherF1?: number; agreement?: number; train_s: number; teacher_s?: number; segment_s: number; epochs?: number; stopped?: string; teacher?: unknown }> = {};
  for (const v of variants) {
    const stack = await openStack(`${dataDir}/${v}.tif`);
    const { width, height, depth } = stack.info;
    const planes = await Promise.all(Array.from({ length: depth }, async (_, z) => toFloat(await stack.readSlice(z))));
    const norm = await fitNormalizationFromSource(stack);
    const t0 = performance.now();
    // As a job trains: TrainInput with the whole stack (3-D teacher features, 2.5-D windows read it).
    const members = [];
    for (let m = 0; m < ensemble; m++) {
      members.push(await MsdnetSegmenter.train({
        width, height, slices: [{ z: 0, image: planes[0], labels: sparse }], sample: new Float32Array(0), norm, params: { ...params, seed: seed + 100 * m },
        volume: { depth, info: stack.info, read: async (z) => planes[z] }, onProgress: () => undefined,
      }));
    }
    const model = members[0];
    const t1 = performance.now();
    const report = model.trainingReport() as { epochs?: number; stopped?: string; teacher?: { seconds?: number } };
    let f1Sum = 0, teacherSum = 0, agree = 0;
    const counts = { tp: 0, fp: 0, fn: 0 };
    // The forest MSDNet learnt from (same seed, rf defaults), on every slice: is the student short of its teacher?
    const teacher = withTeacher ? (await forestTeacher({ width, height, slices: [{ z: 0, image: planes[0], labels: sparse }], sample: new Float32Array(0), norm,
      params, volume: { depth, info: stack.info, read: async (z) => planes[z] }, onProgress: () => undefined }, Array.from({ length: depth - 1 }, (_, i) => i + 1))).predictions : null;
    for (let z = 0; z < depth; z++) {
      const pred = await ensemblePredict(members, planes[z], width, height, { z, depth, slice: (zz) => planes[zz] });
      const t = await truth.readSlice(z);
      let tp = 0, fp = 0, fn = 0;
      for (let i = 0; i < pred.length; i++) {
        const p = pred[i] === 2, g = t[i] === 1;
        if (p && g) tp++; else if (p) fp++; else if (g) fn++;
      }
      f1Sum += (2 * tp) / Math.max(1, 2 * tp + fp + fn);
      counts.tp += tp; counts.fp += fp; counts.fn += fn;
      const tz = teacher?.get(z);
      if (tz) {
        const n = pred.length, foam = tz.classes.indexOf(2), other = foam === 0 ? 1 : 0; // 2 classes
        let a = 0, b = 0, c = 0;
        for (let i = 0; i < n; i++) {
          const p = tz.probs[foam * n + i] > tz.probs[other * n + i], g = t[i] === 1;
          if (p && g) a++; else if (p) b++; else if (g) c++;
          if (p === (pred[i] === 2)) agree++;
        }
        teacherSum += (2 * a) / Math.max(1, 2 * a + b + c);
      }
    }
    if (teacher) console.error(`${v}: teacher F1 ${(teacherSum / depth).toFixed(4)}, student and teacher agree on ${(agree / (depth * width * height)).toFixed(4)} of the pixels`);
    results[v] = { f1: f1Sum / depth, ...counts, ...(teacher ? { teacherF1: teacherSum / depth, agreement: agree / (depth * width * height) } : {}), train_s: (t1 - t0) / 1000, teacher_s: report.teacher?.seconds, segment_s: (performance.now() - t1) / 1000, epochs: report.epochs, stopped: report.stopped, teacher: report.teacher };
    console.error(`${v}: F1 ${results[v].f1.toFixed(4)} (train ${results[v].train_s.toFixed(1)} s incl. teacher ${results[v].teacher_s?.toFixed(1) ?? '-'} s, ${results[v].epochs} epochs, stopped: ${results[v].stopped}, segment ${results[v].segment_s.toFixed(1)} s, ${model.backend})`);
    for (const m of members) await m.dispose?.();
    await stack.close();
  }
  await Promise.all([labels.close(), truth.close()]);
  console.log(JSON.stringify({ epochs: params.epochs, seed, tta, ensemble, pseudoLabels: params.pseudoLabels, set: setOnly, results }));
}
/** One model's labels, or the class of the highest softmax averaged over the members (same classes, same order). */
async function ensemblePredict(members: Segmenter[], image: Float32Array, width: number, height: number, context: ZContext): Promise<Uint8Array> {
  if (members.length === 1) return (await members[0].predict(image, width, height, false, undefined, context)).labels;
  const n = width * height, classes = members[0].classes, sum = new Float32Array(classes.length * n);
  for (const m of members) {
    const { probs } = await m.predict(image, width, height, true, undefined, context);
    for (let i = 0; i < sum.length; i++) sum[i] += probs![i];
  }
  const out = new Uint8Array(n);
  for (let p = 0; p < n; p++) {
    let best = 0;
    for (let c = 1; c < classes.length; c++) if (sum[c * n + p] > sum[best * n + p]) best = c;
    out[p] = classes[best];
  }
  return out;
}

main().catch((e) => { console.error(e); process.exit(1); });
