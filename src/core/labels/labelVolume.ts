// The label stack of one image: uint8 per pixel (0 = unlabeled, k = class k), one buffer per slice allocated on
// the first non-zero write, so a 2048 x 2048 x 1000 stack costs memory only for the slices someone painted.
// Keeps per-class and per-slice labeled-pixel counts up to date on every write (no rescans for the side panel).

import { StackSegError } from '../errors';
import { forEachPatchRun, runsTotal, type RleRuns } from './rle';

/** A rectangle of pixels in one slice: columns x..x+width-1, rows y..y+height-1. */
export interface Box {
  x: number;
  y: number;
  width: number;
  height: number;
}

export class LabelVolume {
  private readonly slices = new Map<number, Uint8Array>();
  /** Labeled pixels per class index (index 0 unused). */
  private readonly classTotals = new Float64Array(256);
  /** Labeled (non-zero) pixels per slice, only for slices that have any. */
  private readonly sliceLabeled = new Map<number, number>();
  /** At most one all-zero slice buffer kept from a slice erased to nothing (see release). */
  private spare: Uint8Array | undefined;

  constructor(readonly width: number, readonly height: number, readonly depth: number) {
    for (const [k, v] of Object.entries({ width, height, depth })) {
      if (!Number.isInteger(v) || v <= 0) throw new StackSegError(`label stack ${k} must be a positive integer, got ${v}`);
    }
  }

  get sliceSize(): number {
    return this.width * this.height;
  }

  /** The buffer of slice z, or undefined when nothing was ever painted there (all zeros). Do not write into it. */
  slice(z: number): Uint8Array | undefined {
    return this.slices.get(z);
  }

  /** Slice z as a full buffer (a zero-filled new one when unpainted; not stored). */
  sliceOrZeros(z: number): Uint8Array {
    return this.slices.get(z) ?? new Uint8Array(this.sliceSize);
  }

  /** Replaces slice z wholesale (loading from disk). All-zero data frees the slice. */
  setSlice(z: number, data: Uint8Array): void {
    this.checkSlice(z);
    if (data.length !== this.sliceSize) throw new StackSegError(`label slice ${z} has ${data.length} pixels, expected ${this.sliceSize}`);
    const old = this.slices.get(z);
    if (old) this.count(old, -1);
    this.slices.delete(z);
    this.sliceLabeled.delete(z);
    const labeled = this.count(data, +1);
    if (labeled > 0) {
      this.slices.set(z, data);
      this.sliceLabeled.set(z, labeled);
    }
  }

  /** Copies the values of `box` in slice z (zeros for an unpainted slice). */
  readBox(z: number, box: Box): Uint8Array {
    this.checkBox(z, box);
    const out = new Uint8Array(box.width * box.height);
    const s = this.slices.get(z);
    if (!s) return out;
    for (let r = 0; r < box.height; r++) {
      const from = (box.y + r) * this.width + box.x;
      out.set(s.subarray(from, from + box.width), r * box.width);
    }
    return out;
  }

  /** Writes `values` (box.width * box.height, row-major) into the box of slice z, keeping the counts right. */
  writeBox(z: number, box: Box, values: Uint8Array): void {
    this.checkBox(z, box);
    if (values.length !== box.width * box.height) throw new StackSegError(`label patch has ${values.length} values for a ${box.width} x ${box.height} box`);
    let s = this.slices.get(z);
    if (!s) {
      if (!values.some((v) => v !== 0)) return; // writing zeros into an unpainted slice changes nothing
      s = this.allocate();
      this.slices.set(z, s);
    }
    const totals = this.classTotals;
    let labeledDelta = 0;
    for (let r = 0; r < box.height; r++) {
      const row = (box.y + r) * this.width + box.x;
      const src = r * box.width;
      for (let c = 0; c < box.width; c++) {
        const before = s[row + c];
        const after = values[src + c];
        if (before === after) continue;
        if (before !== 0) { totals[before]--; labeledDelta--; }
        if (after !== 0) { totals[after]++; labeledDelta++; }
        s[row + c] = after;
      }
    }
    const labeled = (this.sliceLabeled.get(z) ?? 0) + labeledDelta;
    if (labeled > 0) this.sliceLabeled.set(z, labeled);
    else {
      this.release(z);
    }
  }

  /**
   * Writes run-length values (decodeRuns of box.width * box.height values, row-major) into the box of slice z, with
   * one fill per run and row. Given `from` (the values an edit replaces there), only the stretches where from and
   * `to` differ are written: undoing a stroke whose box spans most of a 2048 x 2048 slice touches only the stroke's
   * pixels. Counts are updated from the values actually replaced, so they stay exact whatever the slice held.
   */
  writeRuns(z: number, box: Box, to: RleRuns, from?: RleRuns): void {
    this.checkBox(z, box);
    const n = box.width * box.height;
    for (const runs of from ? [to, from] : [to]) {
      const total = runsTotal(runs);
      if (total !== n) throw new StackSegError(`label patch has ${total} values for a ${box.width} x ${box.height} box`);
    }
    let s = this.slices.get(z);
    if (!s) {
      let anyLabel = false;
      forEachPatchRun(to, from, (_p, _len, v) => { if (v !== 0) anyLabel = true; });
      if (!anyLabel) return; // writing zeros into an unpainted slice changes nothing
      s = this.allocate();
      this.slices.set(z, s);
    }
    const slice = s;
    const replaced = new Float64Array(256); // labeled values overwritten, per class (zeros: the rest)
    const written = new Float64Array(256);
    let stretched = 0;
    forEachPatchRun(to, from, (start, length, v) => {
      written[v] += length;
      stretched += length;
      for (let p = start, left = length; left > 0;) {
        const r = Math.floor(p / box.width);
        const c = p - r * box.width;
        const len = Math.min(left, box.width - c);
        const at = (box.y + r) * this.width + box.x + c;
        for (let i = at, end = at + len; i < end; i++) {
          const old = slice[i];
          if (old !== 0) replaced[old]++;
        }
        slice.fill(v, at, at + len);
        p += len;
        left -= len;
      }
    });
    let replacedLabeled = 0;
    for (let k = 1; k < 256; k++) {
      this.classTotals[k] += written[k] - replaced[k];
      replacedLabeled += replaced[k];
    }
    const labeled = (this.sliceLabeled.get(z) ?? 0) + (stretched - written[0]) - replacedLabeled;
    if (labeled > 0) this.sliceLabeled.set(z, labeled);
    else {
      this.release(z);
    }
  }

  /** A zeroed slice buffer: the one last erased to nothing when there is one. */
  private allocate(): Uint8Array {
    const s = this.spare ?? new Uint8Array(this.sliceSize);
    this.spare = undefined;
    return s;
  }

  /**
   * Slice z was erased to nothing: drops it, keeping its (all-zero) buffer as the spare. Undo and redo of the
   * first stroke on a slice free and refill it in turn; a fresh 4 MB buffer each time (2048 x 2048) made V8
   * collect garbage in the middle of a redo, 30-80 ms in the extension host.
   */
  private release(z: number): void {
    this.spare = this.slices.get(z);
    this.sliceLabeled.delete(z);
    this.slices.delete(z);
  }

  /** Labeled pixels of class k in the whole stack. */
  classCount(k: number): number {
    return this.classTotals[k] ?? 0;
  }

  /** [index, count] for every class index with labeled pixels. */
  classCounts(): [number, number][] {
    const out: [number, number][] = [];
    for (let k = 1; k < 256; k++) if (this.classTotals[k] > 0) out.push([k, this.classTotals[k]]);
    return out;
  }

  /** Slices with labels, ascending, with their labeled-pixel counts. */
  annotatedSlices(): { z: number; labeled: number }[] {
    return [...this.sliceLabeled].map(([z, labeled]) => ({ z, labeled })).sort((a, b) => a.z - b.z);
  }

  hasLabels(z: number): boolean {
    return this.slices.has(z);
  }

  /** Drops every label (revert to an empty file). */
  clear(): void {
    this.slices.clear();
    this.sliceLabeled.clear();
    this.classTotals.fill(0);
  }

  /** Bytes held by the buffers of labeled slices (and at most one spare slice buffer besides, see release). */
  get allocatedBytes(): number {
    return this.slices.size * this.sliceSize;
  }

  private count(data: Uint8Array, sign: 1 | -1): number {
    let labeled = 0;
    for (let i = 0; i < data.length; i++) {
      const v = data[i];
      if (v !== 0) { this.classTotals[v] += sign; labeled++; }
    }
    return labeled;
  }

  private checkSlice(z: number): void {
    if (!Number.isInteger(z) || z < 0 || z >= this.depth) throw new StackSegError(`label slice ${z} is outside 0..${this.depth - 1}`);
  }

  /** Throws unless `b` is a non-empty box inside slice z of this stack. */
  checkBox(z: number, b: Box): void {
    this.checkSlice(z);
    if (![b.x, b.y, b.width, b.height].every(Number.isInteger) || b.x < 0 || b.y < 0 || b.width < 1 || b.height < 1
      || b.x + b.width > this.width || b.y + b.height > this.height) {
      throw new StackSegError(`label box ${JSON.stringify(b)} is not inside the ${this.width} x ${this.height} slice`);
    }
  }
}
