// Labels seen and painted in an orthogonal plane (src/shared/levels/planes.ts: XZ at a row y has x across and z down,
// YZ at a column x has z across and y down). A stroke in a plane is a box of plane values; it becomes one box per
// slice it crosses (XZ: one row of each slice, YZ: one column), so the same LabelEdit machinery (per-slice patches,
// undo/redo, the backup journal, save) handles it as one undoable edit touching many slices.

import { StackSegError } from '../../shared/errors';
import type { PlaneAxis, StackDims } from '../../shared/levels/planes';
import { planeCount, planeDims } from '../../shared/levels/planes';
import { diffPatch, type SlicePatch } from './edits';
import type { Box, LabelVolume } from './labelVolume';

/** The values of a box of one slice (row-major, box.width * box.height). */
export interface SliceBoxValues {
  z: number;
  box: Box;
  values: Uint8Array;
}

/** Checks that `box` lies inside the plane and `index` is a plane of the stack; throws a StackSegError otherwise. */
export function checkPlaneBox(dims: StackDims, axis: PlaneAxis, index: number, box: Box): void {
  const n = planeCount(dims, axis);
  if (!Number.isInteger(index) || index < 0 || index >= n) throw new StackSegError(`${axis.toUpperCase()} plane ${index} is outside 0..${n - 1}`);
  const p = planeDims(dims, axis);
  if (![box.x, box.y, box.width, box.height].every(Number.isInteger) || box.x < 0 || box.y < 0 || box.width < 1 || box.height < 1 || box.x + box.width > p.width || box.y + box.height > p.height) {
    throw new StackSegError(`plane box ${box.x},${box.y} ${box.width}x${box.height} is not inside the ${p.width} x ${p.height} ${axis.toUpperCase()} plane`);
  }
}

/**
 * The per-slice boxes of a plane box's values: XZ plane row r is row `index` of slice box.y + r (columns box.x..);
 * YZ plane column c is column `index` of slice box.x + c (rows box.y..). In slice order.
 */
export function planeBoxToSlices(dims: StackDims, axis: PlaneAxis, index: number, box: Box, values: Uint8Array): SliceBoxValues[] {
  checkPlaneBox(dims, axis, index, box);
  if (values.length !== box.width * box.height) throw new StackSegError(`plane stroke has ${values.length} values for a ${box.width} x ${box.height} box`);
  const out: SliceBoxValues[] = [];
  if (axis === 'xz') {
    for (let r = 0; r < box.height; r++) {
      out.push({ z: box.y + r, box: { x: box.x, y: index, width: box.width, height: 1 }, values: values.slice(r * box.width, (r + 1) * box.width) });
    }
  } else {
    for (let c = 0; c < box.width; c++) {
      const col = new Uint8Array(box.height);
      for (let r = 0; r < box.height; r++) col[r] = values[r * box.width + c];
      out.push({ z: box.x + c, box: { x: index, y: box.y, width: 1, height: box.height }, values: col });
    }
  }
  return out;
}

/** The patches that write a plane box into the volume (only slices that change; each cropped to what changes). */
export function planeStrokePatches(volume: LabelVolume, axis: PlaneAxis, index: number, box: Box, values: Uint8Array): SlicePatch[] {
  const patches: SlicePatch[] = [];
  for (const s of planeBoxToSlices(volume, axis, index, box, values)) {
    const p = diffPatch(volume, s.z, s.box, s.values);
    if (p) patches.push(p);
  }
  return patches;
}

/**
 * The labels of a whole plane at full resolution (XZ: width x depth, YZ: depth x height), read from the slices that
 * hold labels only (an unpainted slice is zeros without being read).
 */
export function labelPlane(volume: LabelVolume, axis: PlaneAxis, index: number): Uint8Array {
  const p = planeDims(volume, axis);
  const out = new Uint8Array(p.width * p.height);
  const W = volume.width;
  for (const { z } of volume.annotatedSlices()) {
    const s = volume.slice(z);
    if (!s) continue;
    if (axis === 'xz') out.set(s.subarray(index * W, index * W + W), z * p.width);
    else for (let y = 0; y < volume.height; y++) out[y * p.width + z] = s[y * W + index];
  }
  return out;
}

/** Whether a box write to slice z touches the plane (XZ at y = index: the box covers row index; YZ: column index). */
export function boxTouchesPlane(axis: PlaneAxis, index: number, box: Box): boolean {
  return axis === 'xz' ? box.y <= index && index < box.y + box.height : box.x <= index && index < box.x + box.width;
}
