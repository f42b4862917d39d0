// A stack the defaults were never tuned on: packed grains with dense inclusions in air (3 classes), unlike the foam
// (2 classes, thin walls). Non-square slices, edge blur, cupping (beam hardening), ring artefacts, a slow drift of
// intensity over z, Gaussian noise; sparse brush strokes on the middle slice only, where the class is certain (3 px
// or more from any other class). Written as TIFF files for the CLI, so a benchmark runs what a user runs.
//
// API
//   makeGrains(opts): { width, height, depth, image: Uint16Array, truth: Uint8Array, labels: Uint8Array }
//        truth 1 = air, 2 = grain, 3 = inclusion (none with inclusions: false); labels 0 = unlabelled, else as truth
//   writeGrains(dir, opts): Promise<{ image, truth, labels }>   the three TIFF paths

import { join } from 'node:path';
import { gaussianSmooth } from '../src/core/features/filters';
import { writeStack } from '../src/core/tiff';
import { gaussian, mulberry32 } from '../src/core/random';

export interface GrainOptions { width?: number; height?: number; depth?: number; noise?: number; blur?: number; rings?: number; seed?: number; inclusions?: boolean }
export interface Grains { width: number; height: number; depth: number; image: Uint16Array; truth: Uint8Array; labels: Uint8Array }

interface Ball { x: number; y: number; z: number; r: number }
const LEVEL = [0, 0.12, 0.5, 0.9]; // attenuation of air, grain, inclusion (index = class)

export function makeGrains(o: GrainOptions = {}): Grains {
  const width = o.width ?? 320, height = o.height ?? 272, depth = o.depth ?? 24;
  const noise = o.noise ?? 0.05, blur = o.blur ?? 1.2, rings = o.rings ?? 0.03;
  const rand = mulberry32(o.seed ?? 7);
  const n = width * height;
  const cx = (width - 1) / 2, cy = (height - 1) / 2, R = Math.min(width, height) * 0.47;
  // Grains: random balls of radius 6-18 inside the container, overlapping at most a little; inclusions inside grains.
  const grains: Ball[] = [], inclusions: Ball[] = [];
  for (let tries = 0; tries < 4000 && grains.length < 400; tries++) {
    const r = 6 + 12 * rand(), a = 2 * Math.PI * rand(), d = (R - r) * Math.sqrt(rand());
    const b = { x: cx + d * Math.cos(a), y: cy + d * Math.sin(a), z: -r + (depth + 2 * r) * rand(), r };
    if (grains.every((g) => Math.hypot(g.x - b.x, g.y - b.y, g.z - b.z) > 0.9 * (g.r + b.r))) grains.push(b);
  }
  for (const g of grains) {
    if (o.inclusions !== false && g.r > 8 && rand() < 0.5) {
      const r = Math.min(g.r - 2, 3 + 0.4 * g.r * rand()), a = 2 * Math.PI * rand(), e = Math.acos(2 * rand() - 1), d = (g.r - r - 1) * rand();
      inclusions.push({ x: g.x + d * Math.sin(e) * Math.cos(a), y: g.y + d * Math.sin(e) * Math.sin(a), z: g.z + d * Math.cos(e), r });
    }
  }
  const truth = new Uint8Array(n * depth), image = new Uint16Array(n * depth), labels = new Uint8Array(n * depth);
  const ringOffset = Float32Array.from({ length: Math.ceil(R) + 2 }, () => rings * gaussian(rand));
  const plane = new Float32Array(n);
  for (let z = 0; z < depth; z++) {
    const gz = grains.filter((g) => Math.abs(g.z - z) < g.r + 1), iz = inclusions.filter((g) => Math.abs(g.z - z) < g.r + 1);
    for (let y = 0; y < height; y++) {
      for (let x = 0; x < width; x++) {
        // Partial volume: each ball contributes with a 1-px linear edge, the densest class wins the truth.
        let cls = 1, v = LEVEL[1];
        for (const g of gz) {
          const f = Math.min(1, Math.max(0, 0.5 + g.r - Math.hypot(x - g.x, y - g.y, z - g.z)));
          if (f > 0) { v = Math.max(v, LEVEL[1] + f * (LEVEL[2] - LEVEL[1])); if (f >= 0.5) cls = 2; }
        }
        for (const g of iz) {
          const f = Math.min(1, Math.max(0, 0.5 + g.r - Math.hypot(x - g.x, y - g.y, z - g.z)));
          if (f > 0) { v = Math.max(v, LEVEL[2] + f * (LEVEL[3] - LEVEL[2])); if (f >= 0.5) cls = 3; }
        }
        truth[z * n + y * width + x] = cls;
        plane[y * width + x] = v;
      }
    }
    // The container keeps every grain more than 3 sigma from the edges, where the filter's reflect border reads air.
    const blurred = blur > 0 ? gaussianSmooth(plane, width, height, blur, 3) : plane;
    const zrand = mulberry32((o.seed ?? 7) * 131 + z + 1);
    for (let y = 0; y < height; y++) {
      for (let x = 0; x < width; x++) {
        const r = Math.hypot(x - cx, y - cy);
        const cup = 1 - 0.12 * Math.max(0, 1 - (r * r) / (R * R)); // darker centre: beam hardening
        const ring = ringOffset[Math.min(ringOffset.length - 1, Math.round(r))];
        const v = blurred[y * width + x] * cup * (1 + 0.03 * z / depth) + ring + noise * gaussian(zrand);
        image[z * n + y * width + x] = Math.max(0, Math.min(65535, Math.round(3000 + 40000 * v)));
      }
    }
  }
  paintStrokes(truth.subarray((depth >> 1) * n, ((depth >> 1) + 1) * n), labels.subarray((depth >> 1) * n, ((depth >> 1) + 1) * n), width, height, rand);
  return { width, height, depth, image, truth, labels };
}

/**
 * Brush strokes, as a user paints them: for each class, random walks of 3 px wide strokes, kept where every pixel within
 * 3 px has the same class. About 12 strokes per class, up to 60 px long.
 */
function paintStrokes(truth: Uint8Array, labels: Uint8Array, w: number, h: number, rand: () => number): void {
  const safe = new Uint8Array(w * h), m = 3;
  for (let y = m; y < h - m; y++) for (let x = m; x < w - m; x++) {
    const c = truth[y * w + x];
    let ok = true;
    for (let dy = -m; dy <= m && ok; dy++) for (let dx = -m; dx <= m && ok; dx++) if (truth[(y + dy) * w + x + dx] !== c) ok = false;
    if (ok) safe[y * w + x] = c;
  }
  for (const cls of [1, 2, 3]) {
    const starts: number[] = [];
    for (let i = 0; i < w * h; i++) if (safe[i] === cls) starts.push(i);
    for (let s = 0; s < 12 && starts.length > 0; s++) {
      let p = starts[Math.floor(rand() * starts.length)], a = 2 * Math.PI * rand();
      let x = p % w, y = (p - x) / w;
      for (let step = 0; step < 60; step++) {
        for (let dy = -1; dy <= 1; dy++) for (let dx = -1; dx <= 1; dx++) if (safe[(Math.round(y) + dy) * w + Math.round(x) + dx] === cls) labels[(Math.round(y) + dy) * w + Math.round(x) + dx] = cls;
        a += 0.4 * (rand() - 0.5);
        const nx = x + Math.cos(a), ny = y + Math.sin(a);
        p = Math.round(ny) * w + Math.round(nx);
        if (nx < 1 || ny < 1 || nx > w - 2 || ny > h - 2 || safe[p] !== cls) break;
        x = nx; y = ny;
      }
    }
  }
}

export async function writeGrains(dir: string, o: GrainOptions = {}): Promise<{ image: string; truth: string; labels: string; stack: Grains }> {
  const g = makeGrains(o);
  const n = g.width * g.height, spec = { width: g.width, height: g.height, depth: g.depth };
  const image = join(dir, 'grains.tif'), truth = join(dir, 'grains.truth.tif'), labels = join(dir, 'grains.labels.tif');
  await writeStack(image, { ...spec, dtype: 'uint16', getSlice: (z) => g.image.subarray(z * n, (z + 1) * n) });
  await writeStack(truth, { ...spec, dtype: 'uint8', getSlice: (z) => g.truth.subarray(z * n, (z + 1) * n) }, { compression: 'deflate' });
  await writeStack(labels, { ...spec, dtype: 'uint8', getSlice: (z) => g.labels.subarray(z * n, (z + 1) * n) }, { compression: 'deflate' });
  return { image, truth, labels, stack: g };
}
