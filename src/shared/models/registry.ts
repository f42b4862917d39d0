// The models StackSeg offers, their parameters with defaults (from the MLExchange paper) and validation.
// One table feeds the CLI (`--set key=value`), the extension's model panel and the job record.

import { UsageError } from '../errors';

export type ModelKind = 'rf' | 'kmeans' | 'threshold' | 'msdnet';
export const MODEL_KINDS: readonly ModelKind[] = ['rf', 'kmeans', 'threshold', 'msdnet'];

export type ParamValue = number | string | boolean | number[];
export type ModelParams = Record<string, ParamValue>;

export interface ParamSpec {
  key: string;
  type: 'int' | 'number' | 'enum' | 'bool' | 'numbers' | 'list';
  /** 'numbers' only: every item must be an integer (e.g. MSDNet dilations). */
  integer?: boolean;
  default: ParamValue;
  min?: number;
  max?: number;
  choices?: readonly string[];
  /** 'enum' only: earlier spellings still accepted (a job record or task written by an older version). */
  aliases?: Readonly<Record<string, string>>;
  description: string;
}

export interface ModelSpec {
  kind: ModelKind;
  title: string;
  supervised: boolean;
  description: string;
  params: readonly ParamSpec[];
}

export const FEATURE_FAMILIES = ['raw', 'gaussian', 'gradientMagnitude', 'laplacian', 'dog', 'hessian', 'structureTensor'] as const;
const DEFAULT_SIGMAS = [0.7, 1, 1.6, 3.5, 5];
/** rf halfScaleFrom default: sigmas from 3 up (3.5 and 5 of the defaults) run on the half grid. */
export const HALF_SCALE_FROM = 3;
const MSDNET_DEVICES = ['auto', 'cpu', 'cuda', 'mps', ...Array.from({ length: 8 }, (_, i) => `cuda:${i}`)];
const seed: ParamSpec = { key: 'seed', type: 'int', default: 0, min: 0, max: 2 ** 31 - 1, description: 'random seed' };

export const MODELS: Record<ModelKind, ModelSpec> = {
  rf: {
    kind: 'rf', title: 'Random Forest', supervised: true,
    description: 'Histogram random forest on a per-pixel filter bank (ilastik-style features).',
    params: [
      { key: 'trees', type: 'int', default: 30, min: 1, max: 1000, description: 'number of trees' },
      { key: 'depth', type: 'int', default: 8, min: 1, max: 40, description: 'maximum tree depth' },
      { key: 'sigmas', type: 'numbers', default: DEFAULT_SIGMAS, min: 0.3, max: 50, description: 'filter scales in pixels' },
      { key: 'features', type: 'list', default: [...FEATURE_FAMILIES].join(','), choices: FEATURE_FAMILIES, description: 'filter families' },
      // Models saved without halfScaleFrom read it as 0 (featureOptionsFrom), so they keep their exact features.
      { key: 'halfScaleFrom', type: 'number', default: HALF_SCALE_FROM, min: 0, max: 50, description: 'features of sigmas >= this are computed on a 2x-decimated grid (pre-smoothed, then upsampled back): far less filter work at large sigmas; 0 = every sigma at full resolution (models saved before this parameter)' },
      // Models saved without settle read it as 0 (RandomForestSegmenter), so they keep the full forest's labels.
      { key: 'settle', type: 'number', default: 1.5, min: 0, max: 10, description: 'segmentation stops walking trees for a pixel once its vote margin exceeds settle x sqrt(trees left) (from 4 trees on); its uncertainty is then from the trees walked. On the foam benchmark 8-10 of 30 trees, labels as with all trees but for at most ~170 pixels per million (a forest trained with another seed differs in 150-3600); 0 = all trees (labels alone stop where no tree left can change them)' },
      { key: 'maxFeatures', type: 'enum', default: 'sqrt', choices: ['sqrt', 'log2', 'all'], description: 'features tried per split' },
      { key: 'minSamplesLeaf', type: 'int', default: 1, min: 1, max: 10000, description: 'minimum samples in a leaf' },
      { key: 'classWeights', type: 'enum', default: 'none', choices: ['none', 'balanced'], description: 'class weighting' },
      { key: 'fill', type: 'enum', default: 'midpoint', choices: ['none', 'midpoint', 'confident'], description: 'pseudo-label unlabelled pixels of labelled slices by the midpoint threshold between the 2 classes (confident: only pixels clearly on one side); needs exactly 2 classes' },
      { key: 'fillWeight', type: 'number', default: 0.01, min: 0, max: 1, description: 'training weight of a pseudo-labelled pixel (a stroke pixel weighs 1)' },
      { key: 'fillBand', type: 'number', default: 0.25, min: 0, max: 0.5, description: 'confident fill: leave pixels within this fraction of the class-mean gap around the midpoint unlabelled' },
      { key: 'fillSigma', type: 'number', default: 0, min: 0, max: 10, description: 'Gaussian smoothing (pixels) before the fill threshold; 0 = auto (least smoothing at which the labelled classes are 5x their noise apart)' },
      { key: 'fillFraction', type: 'number', default: 0.25, min: 0.01, max: 1, description: 'share of the filled pixels used for training (each weighs 1/share more); below 1 trains faster' },
      { key: 'fillTrees', type: 'number', default: 1, min: 0, max: 1, description: 'fraction of trees trained on the filled slices (the rest on the strokes alone)' },
      { key: 'threads', type: 'int', default: 0, min: 0, max: 64, description: 'worker threads for features, training and prediction; 0 = every core the job may use (SLURM_CPUS_PER_TASK, cgroup CPU quota)' },
      { key: 'dims', type: 'enum', default: 'auto', choices: ['2d', '3d', 'auto'], description: 'filter bank: 2d = per slice; 3d = on the volume around each slice (anisotropic, see spacing); auto = 3d when the stack has at least 8 slices and the labelled classes are noisy in-plane (contrast-to-noise under 5:1), else 2d' },
      { key: 'spacing', type: 'number', default: 0, min: 0, max: 1000, description: 'voxel spacing ratio z/x for 3d features; 0 = from the file (ImageJ spacing, OME PhysicalSizeZ/X), else 1' },
      seed,
    ],
  },
  kmeans: {
    kind: 'kmeans', title: 'K-means', supervised: false,
    description: 'Clusters pixel intensities; clusters numbered from darkest (1) to brightest (k).',
    params: [
      { key: 'k', type: 'int', default: 2, min: 2, max: 255, description: 'number of clusters' },
      { key: 'iterations', type: 'int', default: 300, min: 1, max: 100000, description: 'maximum iterations' },
      { key: 'sampleSize', type: 'int', default: 50000, min: 100, max: 10_000_000, description: 'pixels sampled for fitting' },
      seed,
    ],
  },
  threshold: {
    kind: 'threshold', title: 'Threshold', supervised: false,
    description: 'Global threshold: class 1 below, class 2 at or above.',
    params: [
      { key: 'method', type: 'enum', default: 'otsu', choices: ['otsu', 'fixed'], description: 'how the value is chosen' },
      { key: 'value', type: 'number', default: 0, description: 'threshold in image units (method=fixed)' },
    ],
  },
  msdnet: {
    kind: 'msdnet', title: 'MSDNet', supervised: true,
    description: 'Mixed-scale dense network (Pelt & Sethian), trained on labeled pixels only.',
    params: [
      { key: 'layers', type: 'int', default: 12, min: 1, max: 200, description: 'number of layers' },
      { key: 'width', type: 'int', default: 1, min: 1, max: 16, description: 'channels per layer' },
      { key: 'dilations', type: 'numbers', integer: true, default: [1, 2, 3, 4, 5, 6], min: 1, max: 64, description: 'dilations, repeating' },
      { key: 'epochs', type: 'int', default: 400, min: 1, max: 100000, description: 'most passes over the labeled slices (training stops earlier when the loss plateaus or the time budget is spent)' },
      { key: 'maxSeconds', type: 'number', default: 120, min: 0, max: 1e7, description: 'training time budget in seconds (0 = none): the learning-rate schedule shrinks to the epochs that fit' },
      { key: 'plateau', type: 'bool', default: true, description: 'stop when the training loss plateaus (< 1 % lower over the last window of epochs)' },
      { key: 'cropSize', type: 'int', default: 256, min: 0, max: 65536, description: 'slices larger than this train on cropSize x cropSize crops (plus a receptive-radius halo, the loss on the crop alone) that tile the slice once an epoch at a random shift, so a step costs the same on 256² and 2048² slices (a CPU makes thousands of steps in the time budget, not dozens); BatchNorm is re-measured on the centre, at most 2 x cropSize each way; 0 = whole slices' },
      { key: 'learningRate', type: 'number', default: 0.01, min: 1e-6, max: 10, description: 'optimizer learning rate' },
      { key: 'optimizer', type: 'enum', default: 'adam', choices: ['adam', 'sgd'], description: 'optimizer' },
      { key: 'lrSchedule', type: 'enum', default: 'cosine', choices: ['constant', 'cosine'], description: 'learning-rate schedule over the epochs' },
      { key: 'classWeights', type: 'enum', default: 'none', choices: ['none', 'balanced'], description: 'class weighting of the loss' },
      // Job records from before augment=auto hold true/false: the aliases keep them training as they did.
      { key: 'augment', type: 'enum', default: 'auto', choices: ['auto', 'all', 'half-turn', 'off'], aliases: { true: 'all', false: 'off' }, description: 'flips/rotations the network trains on, averages its prediction over (tta) and re-measures BatchNorm on (bnRecompute): all = the 8 flips and 90-degree rotations (a rotation-invariant network); half-turn = the slice and its 180-degree turn (keeps the slices\' orientation, e.g. limited-angle streaks); off = the slice alone; auto = half-turn where the labelled slices have a preferred orientation (structure-tensor coherence >= 0.1), else all' },
      { key: 'tta', type: 'bool', default: true, description: 'average predictions over the augment flips/rotations' },
      { key: 'bnRecompute', type: 'bool', default: true, description: 're-estimate BatchNorm statistics on the augment flips/rotations of the training slices' },
      { key: 'pseudoLabels', type: 'enum', default: 'teacher', choices: ['teacher', 'fill', 'off'], aliases: { true: 'fill', false: 'off' }, description: 'unlabelled pixels of the labelled slices: teacher = the Random Forest (rf defaults) trained on the same strokes predicts them (soft labels, weight teacherWeight); fill = the nearest painted-class mean on a lightly blurred image; off = strokes only' },
      { key: 'teacherSlices', type: 'int', default: -1, min: -1, max: 16, description: 'pseudoLabels=teacher: the teacher also labels this many unlabelled slices each side of a labelled one, which MSDNet trains on too; -1 = auto: 2 + 2 x contextSlices (2 for one-slice input, 8 with contextSlices 3), so that the slices whose windows overlap the labelled one are all taught, fewer where the training data would pass 1.5 GB (1 on 2048² noisy slices)' },
      { key: 'teacherDepth', type: 'int', default: 6, min: 1, max: 40, description: 'pseudoLabels=teacher: tree depth of the teacher forest (rf defaults otherwise); shallower than the forest\'s own 8 gives smoother class probabilities to learn from' },
      { key: 'teacherWeight', type: 'number', default: 1, min: 0, max: 100, description: 'pseudoLabels=teacher: loss weight of a teacher-labelled pixel (a painted pixel weighs 1)' },
      { key: 'backend', type: 'enum', default: 'auto', choices: ['auto', 'torch', 'tfjs-gpu', 'native'], description: 'engine: auto = torch when its Python sees a CUDA GPU, then tfjs-node-gpu, then native CPU; torch = the user\'s Python with PyTorch (CUDA, MPS or CPU)' },
      { key: 'device', type: 'enum', default: 'auto', choices: MSDNET_DEVICES, description: 'torch device: auto = CUDA, then Apple MPS, then CPU; cuda:N picks a GPU' },
      { key: 'contextSlices', type: 'int', default: -1, min: -1, max: 8, description: '2.5D: k neighbouring slices each side as extra input channels (2k+1 in all); 0 = one slice; -1 = auto: 3 where the labelled slices are noisy in-plane (as rf dims=auto decides 3d), else 0' },
      { key: 'inputSigmas', type: 'numbers', default: [-1], min: -1, max: 16, description: 'fixed (not learnt) Gaussian-smoothed copies of the slice as extra input channels, one per sigma in pixels (e.g. 1,2); 0 = none; -1 = auto: 1,2 where contextSlices is above 0 (smoothed over the z window too, inputSmoothing=3d), else none' },
      { key: 'inputSmoothing', type: 'enum', default: '3d', choices: ['2d', '3d', '3d-only'], description: 'inputSigmas planes: 2d = the slice smoothed in-plane; 3d = the contextSlices window Gaussian-weighted over z too (the same as 2d when contextSlices is 0); 3d-only = that, with only the slice itself as raw input' },
      seed,
    ],
  },
};

export function modelSpec(kind: string): ModelSpec {
  if (!(MODEL_KINDS as readonly string[]).includes(kind)) {
    throw new UsageError(`unknown model "${kind}"`, `valid models: ${MODEL_KINDS.join(', ')}`);
  }
  return MODELS[kind as ModelKind];
}

export function defaultParams(kind: ModelKind): ModelParams {
  const out: ModelParams = {};
  for (const p of MODELS[kind].params) out[p.key] = Array.isArray(p.default) ? [...p.default] : p.default;
  return out;
}

/**
 * Parses and validates `key=value` overrides (strings from the CLI or the UI, or typed values from a job record) on
 * top of the defaults. Every key must be a parameter of the model (`__proto__` and `constructor` are unknown keys
 * too: pass a Map or a null-prototype object, as parseSets does, so that they reach this check).
 */
export function resolveParams(kind: ModelKind, overrides: Record<string, string | ParamValue> | ReadonlyMap<string, string | ParamValue>): ModelParams {
  const spec = MODELS[kind];
  const params = defaultParams(kind);
  const entries = overrides instanceof Map ? [...overrides.entries()] : Object.entries(overrides);
  for (const [key, raw] of entries) {
    const p = spec.params.find((q) => q.key === key);
    if (!p) {
      throw new UsageError(`unknown parameter "${key}" for model ${kind}`, `valid: ${spec.params.map((q) => q.key).join(', ')}; e.g. ${example(spec.params[0])}`);
    }
    params[p.key] = parseParam(kind, p, raw);
  }
  return params;
}

/** Plain decimal numbers only: Number() would also take '', ' ', '0x10', 'Infinity' and '1_0'-like typos. */
const DECIMAL = /^[+-]?(\d+\.?\d*|\.\d+)([eE][+-]?\d+)?$/;

function parseParam(kind: ModelKind, p: ParamSpec, raw: string | ParamValue): ParamValue {
  const shown = Array.isArray(raw) ? raw.join(',') : String(raw);
  const bad = (why: string) => new UsageError(`parameter ${kind}.${p.key}=${shown}: ${why}`, `expected ${describeParam(p)}; e.g. ${example(p)}`);
  if (typeof raw === 'string' && raw.trim() === '') throw bad('empty value');
  const num = (v: unknown, integer: boolean, what: string): number => {
    const n = typeof v === 'number' ? v : typeof v === 'string' && DECIMAL.test(v.trim()) ? Number(v.trim()) : NaN;
    if (!Number.isFinite(n)) throw bad(`${what} is not a number`);
    if (integer && !Number.isInteger(n)) throw bad(`${what} is not an integer`);
    if (p.min !== undefined && n < p.min) throw bad(`${what} is below ${p.min}`);
    if (p.max !== undefined && n > p.max) throw bad(`${what} is above ${p.max}`);
    return n;
  };
  switch (p.type) {
    case 'int':
      return num(raw, true, 'the value');
    case 'number':
      return num(raw, false, 'the value');
    case 'bool': {
      if (typeof raw === 'boolean') return raw;
      const s = String(raw).trim().toLowerCase();
      if (['true', '1', 'yes', 'on'].includes(s)) return true;
      if (['false', '0', 'no', 'off'].includes(s)) return false;
      throw bad('not true/false');
    }
    case 'enum': {
      const given = typeof raw === 'string' ? raw.trim() : typeof raw === 'boolean' ? String(raw) : '';
      const s = p.aliases && Object.prototype.hasOwnProperty.call(p.aliases, given) ? p.aliases[given] : given;
      if (!p.choices!.includes(s)) throw bad(`not one of ${p.choices!.join('|')}`);
      return s;
    }
    case 'numbers': {
      const items: unknown[] = Array.isArray(raw) ? raw : typeof raw === 'string' ? raw.split(',').map((s) => s.trim()) : [raw];
      if (items.length === 0) throw bad('empty list');
      return items.map((v, i) => {
        if (v === '') throw bad(`item ${i + 1} is empty`);
        return num(v, !!p.integer, `item ${i + 1} (${String(v)})`);
      });
    }
    case 'list': {
      if (!Array.isArray(raw) && typeof raw !== 'string') throw bad('not a comma-separated list');
      const items = (Array.isArray(raw) ? raw.map(String) : raw.split(',')).map((s) => s.trim());
      if (items.length === 0) throw bad('empty list');
      if (items.some((s) => s === '')) throw bad('empty item in the list');
      const unknown = items.filter((s) => !p.choices!.includes(s));
      if (unknown.length) throw bad(`unknown ${unknown.join(', ')}`);
      return items.join(',');
    }
  }
}

/** A valid `key=value` for the parameter's messages. */
function example(p: ParamSpec): string {
  if (p.type === 'enum' || p.type === 'list') return `${p.key}=${p.choices![p.choices!.length > 1 ? 1 : 0]}`;
  if (p.type === 'bool') return `${p.key}=${!p.default}`;
  return `${p.key}=${Array.isArray(p.default) ? p.default.join(',') : String(p.default)}`;
}

export function describeParam(p: ParamSpec): string {
  const range = p.choices ? `one of ${p.choices.join('|')}` : p.min !== undefined ? `${p.min}..${p.max ?? '∞'}` : '';
  const def = Array.isArray(p.default) ? p.default.join(',') : String(p.default);
  const type = p.type === 'numbers' && p.integer ? 'integers' : p.type;
  return `${p.key} (${type}${range ? `, ${range}` : ''}, default ${def}): ${p.description}`;
}

/** `--set key=value` pairs, later ones win. A Map: `__proto__=1` stays a key (and resolveParams refuses it). */
export function parseSets(sets: string[]): Map<string, string> {
  const out = new Map<string, string>();
  for (const s of sets) {
    const i = s.indexOf('=');
    if (i <= 0 || s.slice(0, i).trim() === '') throw new UsageError(`--set "${s}" is not key=value`, 'e.g. --set trees=50');
    out.set(s.slice(0, i).trim(), s.slice(i + 1));
  }
  return out;
}
