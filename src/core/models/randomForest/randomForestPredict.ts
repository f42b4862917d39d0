// Forest prediction from the node tables (randomForest.ts): the JS loop for any number of classes, and two classes
// in WebAssembly, the forest2 / forest2c kernels of forest.wat (compiled once per thread, ahead, so a fresh worker
// has no JS loop to warm up). Both give the same numbers.
import { FOREST_WASM_BASE64 } from './forestWasm';
import type { ForestTables } from './randomForestTrain';

export type ForestNodes = Pick<ForestTables, 'treeRoots' | 'feature' | 'threshold' | 'left' | 'value'>;

/**
 * Labels (values of `classes`) and class-major probabilities of pixels p0..p1-1 of feature planes that hold planeSize
 * pixels each (features[f * planeSize + p]). Outputs hold p1 - p0 pixels.
 */
export function predictForest(features: Float32Array, planeSize: number, p0: number, p1: number, nodes: ForestNodes, classes: readonly number[]): { labels: Uint8Array; probabilities: Float32Array } {
  const C = classes.length;
  const nPixels = p1 - p0;
  const { feature, threshold, left, value, treeRoots } = nodes;
  const nTrees = treeRoots.length;
  const labels = new Uint8Array(nPixels);
  const probabilities = new Float32Array(C * nPixels);
  const inv = 1 / nTrees;
  // Tree-major over blocks of pixels: one tree's few nodes stay hot while its split features stream by. Sums run
  // over trees in order, in double, so results equal the pixel-major loop.
  // Start of each split node's feature plane (-1 for leaves): no multiplication per step.
  const offset = Int32Array.from(feature, (f) => (f < 0 ? -1 : f * planeSize));
  const B = 4096;
  const acc = new Float64Array(B * C);
  for (let b0 = p0; b0 < p1; b0 += B) {
    const b1 = Math.min(p1, b0 + B);
    acc.fill(0);
    for (let t = 0; t < nTrees; t++) {
      const root = treeRoots[t], rootOffset = offset[root];
      for (let p = b0; p < b1; p++) {
        let node = root, o = rootOffset;
        while (o >= 0) {
          node = features[o + p] <= threshold[node] ? left[node] : left[node] + 1;
          o = offset[node];
        }
        const vo = node * C, ao = (p - b0) * C;
        for (let c = 0; c < C; c++) acc[ao + c] += value[vo + c];
      }
    }
    for (let p = b0; p < b1; p++) {
      const ao = (p - b0) * C, q = p - p0;
      let best = 0;
      for (let c = 0; c < C; c++) { probabilities[c * nPixels + q] = acc[ao + c] * inv; if (acc[ao + c] > acc[ao + best]) best = c; }
      labels[q] = classes[best];
    }
  }
  return { labels, probabilities };
}

interface ForestExports {
  memory: WebAssembly.Memory;
  forest2(feat: number, n: number, nodes: number, val: number, roots: number, nTrees: number,
    prob0: number, prob1: number, lab: number, inv: number, depth: number, acc: number): void;
  forest2c(feat: number, n: number, nodes: number, val: number, nTrees: number,
    prob0: number, prob1: number, lab: number, inv: number, depth: number, acc: number, early: number, block: number,
    minTrees: number, settle: number): number;
}

/** Trees walked by forest2c, summed over pixels, and the pixels (mean trees per pixel = treePixels / pixels). */
export const forestWalk = { pixels: 0, treePixels: 0 };
/** A settled vote (settle > 0) is checked from this many trees on. */
export const SETTLE_MIN_TREES = 4;

/** Forests at most this deep run as complete breadth-first trees (forest2c): 2^depth records per tree. */
const COMPLETE_MAX_DEPTH = 10;

/**
 * Complete-tree layout of forest2c: per tree 2^depth - 1 split records [plane byte offset, threshold] in breadth-first
 * order (children of i at 2i+1, 2i+2) and 2^depth leaf values (2 x f32). A leaf above the last level becomes splits
 * that always go left (the zero plane, threshold +inf) down to its copy on the last level.
 */
function completeTrees(nodes: ForestNodes, depth: number, nFeatures: number, planeBytes: number, ri: Int32Array, rf: Float32Array, vals: Float32Array): void {
  const { feature, threshold, left, value, treeRoots: roots } = nodes;
  const inner = (1 << depth) - 1;
  const fill = (t: number, node: number, i: number, d: number): void => {
    if (d === depth) { const v = (t * (inner + 1) + i - inner) * 2; vals[v] = value[2 * node]; vals[v + 1] = value[2 * node + 1]; return; }
    const r = 2 * (t * inner + i);
    const leaf = feature[node] < 0;
    ri[r] = (leaf ? nFeatures : feature[node]) * planeBytes; rf[r + 1] = leaf ? Infinity : threshold[node];
    fill(t, leaf ? node : left[node], 2 * i + 1, d + 1);
    fill(t, leaf ? node : left[node] + 1, 2 * i + 2, d + 1);
  };
  roots.forEach((root, t) => fill(t, root, 0, 0));
}

let forestModule: ForestExports | null | undefined;

/**
 * Pixels per WebAssembly prediction chunk: its packed features stay in L2 (41 planes: 672 KB), where the trees'
 * scattered reads find them (2048^2 foam, labels: 0.58 -> 0.55 CPU s per slice; 2 workers 0.75 -> 0.73 s per slice).
 */
const CHUNK = 1 << 12;
/**
 * Pixels per block that forest2c walks tree by tree where pixels may stop early (labels only, or settle > 0): 8 (one
 * set of lanes), since a block leaves only when all its pixels are decided (noisy foam at 256^2, mean trees walked with the exact margin: 19.7 of 30 with
 * blocks of 32, 17.3 with 8; with settle 2.5: 16.8 and 13.0).
 */
const EARLY_BLOCK = 8;
/** Floats between one packed feature plane's end and the next one's start (one cache line). */
const PLANE_PAD = 16;
/** Pixels that walk a tree side by side in forest2 (chunks are padded to a multiple). */
const LANES = 8;

/** Depth of the deepest leaf over all trees (steps a pixel takes per tree). */
function forestDepth(left: Int32Array, feature: Int32Array, roots: Int32Array): number {
  let deepest = 0;
  const stack: number[] = [];
  for (const r of roots) {
    stack.push(r, 0);
    while (stack.length) {
      const d = stack.pop()!, node = stack.pop()!;
      if (feature[node] < 0) { deepest = Math.max(deepest, d); continue; }
      stack.push(left[node], d + 1, left[node] + 1, d + 1);
    }
  }
  return deepest;
}

/**
 * The first tree count t at which a pixel can be decided, i.e. t (the largest |sum1 - sum0| after t trees) exceeds
 * forest2c's margin: before it, checking is wasted work (30 trees: settle 2 -> 10; exact -> 16).
 */
export function firstDecidable(nTrees: number, settle: number): number {
  for (let t = settle > 0 ? SETTLE_MIN_TREES : 1; t < nTrees; t++) {
    const left = nTrees - t, exact = left * 1.000001 + 1e-9;
    if (t > (settle > 0 ? Math.min(exact, settle * Math.sqrt(left)) : exact)) return t;
  }
  return nTrees;
}

/**
 * Two-class forest prediction in WebAssembly of pixels p0..p0+nPixels-1 of feature-major planes of planeSize pixels.
 * Returns the class-major probabilities (2 x nPixels) and per pixel 1 where class index 1 wins, or null without
 * WebAssembly. Same numbers as predictForest (f64 sums over trees in order). Runs in chunks of CHUNK pixels, each
 * packed (its pixels of every plane, plus a plane of zeros that leaves read) into the module's memory.
 * A pixel stops walking trees once its winner is decided (forest2c's blocks of EARLY_BLOCK pixels stop when all are):
 * - labelsOnly (probabilities is then null), settle = 0: once no remaining tree can change it, so the winners are the
 *   full forest's;
 * - settle > 0 (with or without probabilities): also once, from SETTLE_MIN_TREES trees on, |sum1 - sum0| >
 *   settle * sqrt(trees left): the R remaining trees would have to vote against the first ones far beyond chance (a
 *   random walk of R steps of at most 1 passes settle sqrt(R) with probability < exp(-settle^2 / 2)). Its
 *   probabilities are then the mean of the trees walked. On the six foam variants (256^2, seed 0) settle 2 walks
 *   10-12 of 30 trees (the exact margin 16-17), changes at most 23 pixels in a million and no F1; settle 1.5 (the
 *   default) 8-10 trees, at most 166 ppm (a forest of another seed: 150-3600 ppm), F1 within .0001.
 * A pixel's result depends on its own votes only, not on where blocks start.
 */
export function predictTwoClasses(features: Float32Array, planeSize: number, p0: number, nPixels: number, nFeatures: number,
  nodes: ForestNodes, labelsOnly = false, settle = 0): { probabilities: Float32Array | null; winner: Uint8Array } | null {
  if (forestModule === undefined) {
    try {
      forestModule = new WebAssembly.Instance(new WebAssembly.Module(Buffer.from(FOREST_WASM_BASE64, 'base64')), {}).exports as unknown as ForestExports;
    } catch { forestModule = null; } // no WebAssembly SIMD: the JS loop
  }
  const x = forestModule;
  if (!x) return null;
  const { feature, threshold, left, value, treeRoots: roots } = nodes;
  const nNodes = feature.length;
  const chunk = Math.min(CHUNK, Math.ceil(nPixels / LANES) * LANES);
  // Packed planes lie PLANE_PAD floats more than a chunk apart: at exactly 16 KB apart the 41 lines a group of 8
  // pixels reads would all fall into one L1 set (4 KB apart map alike), and the trees' reads would miss L1.
  const stride = chunk + PLANE_PAD, planeBytes = stride * 4, outBytes = chunk * 4;
  const depth = forestDepth(left, feature, roots);
  // Shallow forests (the default depth 8): complete trees, no child index to load per step
  // (1.99 -> 1.61 CPU s per 2048^2 slice, 30 trees of depth 8, 25 features).
  const complete = depth <= COMPLETE_MAX_DEPTH;
  const nodeBytes = complete ? roots.length * ((1 << depth) - 1) * 8 : nNodes * 16, valBytes = complete ? roots.length * (1 << depth) * 8 : nNodes * 8;
  // acc: 256 x 2 f64 sums, then forest2c's 256 decided-pixel flags.
  const sizes = [(nFeatures + 1) * planeBytes, nodeBytes, valBytes, roots.length * 4, 2 * outBytes, chunk, 4096 + 256];
  const at: number[] = [];
  let total = 0;
  for (const b of sizes) { at.push(total); total += Math.ceil(b / 16) * 16; }
  const pages = Math.ceil(total / 65536) - x.memory.buffer.byteLength / 65536;
  if (pages > 0) x.memory.grow(pages);
  const buf = x.memory.buffer;
  // Node records [plane byte offset, threshold, left, unused]. Leaves loop to themselves: they read the zero plane
  // (index nFeatures), 0 <= +inf, and go "left" to themselves.
  if (complete) {
    completeTrees(nodes, depth, nFeatures, planeBytes, new Int32Array(buf, at[1], nodeBytes / 4), new Float32Array(buf, at[1], nodeBytes / 4), new Float32Array(buf, at[2], valBytes / 4));
  } else {
    const ri = new Int32Array(buf, at[1], 4 * nNodes), rf = new Float32Array(buf, at[1], 4 * nNodes);
    for (let i = 0; i < nNodes; i++) {
      const leaf = feature[i] < 0;
      ri[4 * i] = (leaf ? nFeatures : feature[i]) * planeBytes; rf[4 * i + 1] = leaf ? Infinity : threshold[i]; ri[4 * i + 2] = leaf ? i : left[i];
    }
    new Float32Array(buf, at[2], 2 * nNodes).set(value);
    new Int32Array(buf, at[3], roots.length).set(roots);
  }
  const packed = new Float32Array(buf, at[0], (nFeatures + 1) * stride);
  const probabilities = labelsOnly ? null : new Float32Array(2 * nPixels), winner = new Uint8Array(nPixels);
  // Complete trees only (the default depth 8): forest2 has no early exit and gives full sums. With probabilities,
  // only a settled vote stops early (the exact margin would leave them partial).
  const early = complete && (labelsOnly || settle > 0) ? 1 : 0, minTrees = firstDecidable(roots.length, settle);
  for (let c0 = 0; c0 < nPixels; c0 += chunk) {
    const m = Math.min(chunk, nPixels - c0), m4 = Math.ceil(m / LANES) * LANES;
    for (let f = 0; f < nFeatures; f++) {
      const from = f * planeSize + p0 + c0;
      packed.set(features.subarray(from, from + m), f * stride);
      if (m4 > m) packed.fill(0, f * stride + m, f * stride + m4);
    }
    packed.fill(0, nFeatures * stride, nFeatures * stride + m4);
    if (complete) {
      forestWalk.pixels += m4;
      forestWalk.treePixels += x.forest2c(at[0], m4, at[1], at[2], roots.length, at[4], at[4] + outBytes, at[5], 1 / roots.length, depth, at[6],
        early, early ? EARLY_BLOCK : 256, minTrees, settle);
    }
    else x.forest2(at[0], m4, at[1], at[2], at[3], roots.length, at[4], at[4] + outBytes, at[5], 1 / roots.length, depth, at[6]);
    if (probabilities) {
      probabilities.set(new Float32Array(buf, at[4], m), c0);
      probabilities.set(new Float32Array(buf, at[4] + outBytes, m), nPixels + c0);
    }
    winner.set(new Uint8Array(buf, at[5], m), c0);
  }
  return { probabilities, winner };
}
