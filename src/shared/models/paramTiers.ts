// How the Model panel presents each registry parameter: essential (always shown, 2-4 per model) or advanced (under a
// collapsed "Advanced"), and a one-line plain-language hint. Kept beside the registry rather than in it so the
// validation table stays the CLI's contract; paramTiers.test.ts checks every registry parameter has an entry here.

import type { ModelKind } from './registry';

export type ParamTier = 'essential' | 'advanced';
export interface ParamUi { tier: ParamTier; hint: string }

const E = (hint: string): ParamUi => ({ tier: 'essential', hint });
const A = (hint: string): ParamUi => ({ tier: 'advanced', hint });
const SEED = A('Same seed, same result; change it to see how much the result depends on chance.');

export const PARAM_UI: Record<ModelKind, Record<string, ParamUi>> = {
  rf: {
    trees: E('More trees give a steadier result and take longer to train.'),
    sigmas: E('Sizes in pixels of the blurs and edge filters; add a larger one for larger structures.'),
    // The one pseudo-label switch; its knobs (fill*) stay under Advanced.
    fill: E('Also learn from unpainted pixels of painted slices, split by brightness (2 classes); none = strokes only.'),
    depth: A('How detailed each tree may get; deeper fits finer texture but may learn the noise.'),
    features: A('Which filter kinds the forest looks at (default: all).'),
    halfScaleFrom: A('Filters of this size and up run at half resolution (faster, nearly the same result); 0 = all at full.'),
    settle: A('Stop asking more trees once their vote is clear (faster); 0 = always as many as could change a pixel.'),
    maxFeatures: A('How many features each tree split compares.'),
    minSamplesLeaf: A('Smallest group of pixels a tree rule may single out; raise it to smooth noisy masks.'),
    classWeights: A('balanced: a class with few painted pixels counts as much as one with many.'),
    fillWeight: A('Pseudo-labels: how much a filled pixel counts next to a painted one (1).'),
    fillBand: A('Pseudo-labels (confident): leave pixels this close to the brightness midpoint unfilled.'),
    fillSigma: A('Pseudo-labels: blur in pixels before splitting by brightness; 0 = chosen from your strokes.'),
    fillFraction: A('Pseudo-labels: share of the filled pixels used; lower trains faster.'),
    fillTrees: A('Pseudo-labels: share of the trees that learn from filled pixels too.'),
    threads: A('CPU threads to use; 0 = every core this job may use.'),
    dims: A('3d: filters also look at the slices above and below (helps on noisy volumes); 2d: each slice alone.'),
    spacing: A('3d: slice distance over pixel size (e.g. 2 = slices twice as far apart); 0 = from the file.'),
    seed: SEED,
  },
  kmeans: {
    k: E('Number of brightness groups (classes) to split the image into.'),
    sampleSize: E('Pixels used to find the groups; more is steadier and slower.'),
    iterations: A('Upper limit on refinement rounds; the default almost always converges first.'),
    seed: SEED,
  },
  threshold: {
    method: E('otsu picks the value that best separates dark from bright; fixed uses the value below.'),
    value: E('The brightness that splits the classes, in image units (only with method fixed).'),
  },
  msdnet: {
    epochs: E('Training rounds over your labelled slices; more is slower and usually better.'),
    pseudoLabels: E('Also learn from unpainted pixels of painted slices: teacher = as a Random Forest labels them.'),
    teacherSlices: A('Pseudo-labels (teacher): also learn from this many unpainted slices each side (-1 = auto).'),
    teacherDepth: A('Pseudo-labels (teacher): tree depth of the teacher Random Forest (6).'),
    teacherWeight: A('Pseudo-labels (teacher): how much a teacher-labelled pixel counts next to a painted one (1).'),
    layers: E('Depth of the network; more layers see wider context and train slower.'),
    maxSeconds: A('Training time budget in seconds (0 = none); training stops when it is spent.'),
    plateau: A('Stop training early once the loss stops improving.'),
    cropSize: A('Larger slices train on tiles of this size in pixels, so each step stays fast (0 = whole slices).'),
    width: A('Channels per layer.'),
    dilations: A('How far apart each layer looks, in pixels, repeating over the layers.'),
    learningRate: A('Step size of training; lower is steadier and slower.'),
    optimizer: A('Training algorithm.'),
    lrSchedule: A('cosine lowers the step size towards the end of training.'),
    classWeights: A('balanced: a class with few painted pixels counts as much as one with many.'),
    augment: A('Train on flipped/rotated copies: all 8, or half-turn to keep the slices\' orientation; auto picks.'),
    tta: A('Average the prediction over the augment copies (up to 8x slower to segment, smoother).'),
    bnRecompute: A('Re-measure the network\'s normalisation on flipped and rotated slices after training.'),
    backend: A('Where the network runs: auto uses a GPU when one is set up (PyTorch or tfjs), else the CPU.'),
    device: A('With PyTorch: which device (auto = CUDA GPU, then Apple MPS, then CPU).'),
    contextSlices: A('2.5D: also feed this many slices above and below as input (0 = the slice alone; -1 = auto).'),
    inputSigmas: A('Also feed the slice blurred at these scales in pixels, e.g. 1,2 (0 = none; -1 = auto).'),
    inputSmoothing: A('Blur of those inputs: 2d in the slice; 3d also across the neighbouring slices.'),
    seed: SEED,
  },
};

/** Tier and hint of a parameter; a parameter added to the registry without an entry shows under Advanced. */
export function paramUi(kind: ModelKind, key: string): ParamUi {
  return PARAM_UI[kind]?.[key] ?? { tier: 'advanced', hint: '' };
}
