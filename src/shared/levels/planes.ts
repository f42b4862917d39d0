// Orthogonal planes of a stack (XZ at a row y, YZ at a column x) for the viewer's 3-view mode, built from the
// resolution levels of the XY slices (src/shared/pyramid.ts), never from a pass over full-resolution slices:
// level f of a plane is, for one slice in every f (the middle of each block of f slices), row y/f (XZ) or column x/f
// (YZ) of that slice's level-f XY block mean. So a level-8 plane of a 2048 x 2048 x 500 stack reads 63 slices and
// keeps 63 level-8 slices (8 MB) in the level cache, from which every other plane of that level is cut at once.
// Level 1 is exact (every slice, every pixel). Where the file can give a few rows of a slice alone (uncompressed
// strips: SliceSource.readRows), an XZ plane reads only the f rows of its block from each slice, not the whole slice.
// Orientation follows Fiji's orthogonal views: XZ has x across and z
// down (it sits under XY), YZ has z across and y down (it sits right of XY). Pure (no vscode, no node).

import { blockMean, levelSize } from '../pyramid';
import { allocPixels, type DType, type PixelArray } from '../types';

export type PlaneAxis = 'xz' | 'yz';

export const PLANE_AXES: readonly PlaneAxis[] = ['xz', 'yz'];

export interface StackDims { width: number; height: number; depth: number }

/** Full-resolution size of a plane: XZ is width x depth, YZ is depth x height. */
export function planeDims(dims: StackDims, axis: PlaneAxis): { width: number; height: number } {
  return axis === 'xz' ? { width: dims.width, height: dims.depth } : { width: dims.depth, height: dims.height };
}

/** Size of level f of a plane: ceil of the full size over f on both axes. */
export function planeLevelSize(dims: StackDims, axis: PlaneAxis, f: number): { width: number; height: number } {
  const d = planeDims(dims, axis);
  return levelSize(d.width, d.height, f);
}

/** Largest plane index: XZ planes are indexed by y (0..height-1), YZ planes by x (0..width-1). */
export function planeCount(dims: StackDims, axis: PlaneAxis): number {
  return axis === 'xz' ? dims.height : dims.width;
}

/** The slices level f of a plane reads: the middle slice of each block of f (the last block may be partial). */
export function planeSlices(depth: number, f: number): number[] {
  const out: number[] = [];
  for (let z0 = 0; z0 < depth; z0 += f) out.push(Math.min(depth - 1, z0 + (f >> 1)));
  return out;
}

/** An empty plane of level f (filled by putPlaneLine). */
export function newPlane(dims: StackDims, axis: PlaneAxis, f: number, dtype: DType): { data: PixelArray; width: number; height: number } {
  const s = planeLevelSize(dims, axis, f);
  return { data: allocPixels(dtype, s.width * s.height), ...s };
}

/**
 * Copies line k of a level-f plane (k: the k-th slice of planeSlices) out of that slice's level-f XY pixels
 * (`level`, ceil(width/f) x ceil(height/f)): row index/f for XZ (plane row k), column index/f for YZ (plane column k).
 */
export function putPlaneLine(plane: { data: PixelArray; width: number }, axis: PlaneAxis, dims: StackDims, f: number, index: number, k: number, level: PixelArray): void {
  const lw = Math.ceil(dims.width / f);
  const lh = Math.ceil(dims.height / f);
  if (level.length !== lw * lh) throw new Error(`level ${f} slice has ${level.length} pixels, expected ${lw} x ${lh}`);
  const at = Math.floor(index / f);
  if (axis === 'xz') {
    plane.data.set(level.subarray(at * lw, at * lw + lw), k * plane.width);
  } else {
    for (let r = 0; r < lh; r++) plane.data[r * plane.width + k] = level[r * lw + at];
  }
}

/** Rows y0..y0+rows-1 of slice z alone, or undefined when the file cannot give them without the whole slice. */
export type RowSource = (z: number, y0: number, rows: number, c: number, t: number) => Promise<PixelArray | undefined>;

/** What a plane is read from: level f of slice z of channel c at time point t (a LevelReader). */
export interface LevelSource {
  readLevel(z: number, f: number, c?: number, t?: number): Promise<{ data: PixelArray }>;
}

export interface PlaneResult {
  data: PixelArray;
  width: number;
  height: number;
  /** Slices read (at level f) to build it. */
  slices: number;
}

/**
 * Level f of the XZ plane at y = index (or the YZ plane at x = index) of channel c at time point t. `stale`: checked
 * between slices; when it says so the read stops and undefined is returned (the user moved the crosshair on).
 */
export async function readPlane(src: LevelSource, dims: StackDims & { dtype: DType }, axis: PlaneAxis, index: number, f: number, c = 0, t = 0, stale?: () => boolean, rows?: RowSource): Promise<PlaneResult | undefined> {
  if (!Number.isInteger(index) || index < 0 || index >= planeCount(dims, axis)) throw new Error(`${axis} plane index ${index} is outside 0..${planeCount(dims, axis) - 1}`);
  const plane = newPlane(dims, axis, f, dims.dtype);
  const zs = planeSlices(dims.depth, f);
  for (let k = 0; k < zs.length; k++) {
    if (stale?.()) return undefined;
    if (axis === 'xz' && rows) {
      // Only the block's rows: the same block means as row index/f of the level-f slice.
      const y0 = Math.floor(index / f) * f;
      const n = Math.min(dims.height, y0 + f) - y0;
      const block = await rows(zs[k], y0, n, c, t);
      if (block) {
        plane.data.set(blockMean(block, dims.width, n, dims.dtype, f).data, k * plane.width);
        continue;
      }
    }
    const level = await src.readLevel(zs[k], f, c, t);
    putPlaneLine(plane, axis, dims, f, index, k, level.data);
  }
  return { ...plane, slices: zs.length };
}

/** Finest level whose plane's longer side is at most `maxSide` (the plane's cheap first frame). */
export function planePreviewLevel(dims: StackDims, axis: PlaneAxis, maxSide = 256, maxLevel = 64): number {
  const d = planeDims(dims, axis);
  let f = 1;
  while (f < maxLevel && Math.max(d.width, d.height) / f > maxSide) f *= 2;
  return f;
}
