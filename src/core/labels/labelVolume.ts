// The label stack of one image: uint8 per pixel (0 = unlabeled, k = class k), one buffer per slice allocated on
// the first non-zero write, so a 2048 x 2048 x 1000 stack costs memory only for the slices someone painted.
// Keeps per-class and per-slice labeled-pixel counts up to date on every write (no rescans for the side panel).
// Opened from a labels file, it is backed by that file (LabelPages): a labelled slice is decoded the first time
// someone reads or paints it, and slices not changed since the last save or open are dropped again under memory
// pressure (they can be read back). `dirty` marks the slices that differ from the backing file: a save encodes
// those and copies the other pages' bytes (labelWrite.ts).

import { StackSegError } from '../../shared/errors';
import { countPairs, type ClassPairs, type LabelPages } from './labelPages';
import { forEachPatchRun, runsTotal, type RleRuns } from '../../shared/labels/rle';

/** Decoded slices that equal the file are kept up to this many bytes (the least recently read are dropped). */
export const CLEAN_CACHE_BYTES = 256 * 1024 * 1024;

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
  /** The file the slices not in memory are read from (undefined: they are all zeros). */
  private pages: LabelPages | undefined;
  /** Slices whose content differs from `pages` (painted since the last open or save). */
  private readonly dirty = new Set<number>();
  /** Slices in memory that equal the file, least recently used first (the ones that may be dropped). */
  private readonly clean = new Map<number, true>();
  /** Bytes of clean slices kept before the oldest are dropped (tests lower it). */
  cleanCacheBytes = CLEAN_CACHE_BYTES;

  constructor(readonly width: number, readonly height: number, readonly depth: number, pages?: LabelPages) {
    for (const [k, v] of Object.entries({ width, height, depth })) {
      if (!Number.isInteger(v) || v <= 0) throw new StackSegError(`label stack ${k} must be a positive integer, got ${v}`);
    }
    if (pages) this.attach(pages);
  }

  /** Backs the volume by `pages` (every page's counts known): the totals come from the file, no pixel is read. */
  private attach(pages: LabelPages): void {
    if (pages.width !== this.width || pages.height !== this.height || pages.depth !== this.depth) {
      throw new StackSegError(`labels are ${pages.width} x ${pages.height} x ${pages.depth}, the stack is ${this.width} x ${this.height} x ${this.depth}`, { file: pages.path });
    }
    this.pages = pages;
    for (let z = 0; z < this.depth; z++) {
      const labeled = pages.labeled(z);
      if (!(labeled > 0)) continue;
      this.sliceLabeled.set(z, labeled);
      const p = pages.pairs(z);
      for (let i = 0; i + 1 < p.length; i += 2) this.classTotals[p[i]] += p[i + 1];
    }
  }

  /** The file backing this volume, if any. */
  get backing(): LabelPages | undefined {
    return this.pages;
  }

  /** Slices painted since the file was read or saved. */
  isDirty(z: number): boolean {
    return this.dirty.has(z);
  }

  get dirtyCount(): number {
    return this.dirty.size;
  }

  /** Decoded slices held in memory. */
  get loadedSlices(): number {
    return this.slices.size;
  }

  /**
   * What a save writes for page z: 'zero' (no labels), 'memory' (encode `data`), or 'file' (the backing file's
   * page, unchanged; copy its bytes when copyable, else decode it again).
   */
  pageState(z: number, fileStale = false): { kind: 'zero' } | { kind: 'memory'; data: Uint8Array } | { kind: 'file'; pages: LabelPages; labeled: number; pairs: ClassPairs } {
    this.checkSlice(z);
    if (!this.sliceLabeled.has(z)) return { kind: 'zero' };
    const pages = this.pages;
    // A file rewritten in place by another program: the slices still in memory are written from memory.
    const held = this.slices.get(z);
    if (pages && !this.dirty.has(z) && !(fileStale && held)) return { kind: 'file', pages, labeled: pages.labeled(z), pairs: pages.pairs(z) };
    return { kind: 'memory', data: held ?? this.slice(z)! };
  }

  /** After a save to the file `pages` indexes: it backs the volume now and nothing is dirty. */
  rebase(pages: LabelPages): void {
    if (this.pages !== pages) this.pages?.close();
    this.pages = pages;
    this.dirty.clear();
    this.clean.clear();
    for (const z of this.slices.keys()) this.clean.set(z, true);
    this.trim();
  }

  /** Takes over everything `other` holds (a fresh read of the file: Revert); `other` must not be used after. */
  adopt(other: LabelVolume): void {
    if (other.width !== this.width || other.height !== this.height || other.depth !== this.depth) throw new StackSegError('the reloaded labels have another size');
    const old = this.pages;
    this.pages = undefined;
    if (old !== other.pages) old?.close();
    this.clear();
    this.pages = other.pages;
    for (const [z, s] of other.slices) this.slices.set(z, s);
    for (const [z, n] of other.sliceLabeled) this.sliceLabeled.set(z, n);
    for (const z of other.dirty) this.dirty.add(z);
    for (const z of other.clean.keys()) this.clean.set(z, true);
    this.classTotals.set(other.classTotals);
    other.pages = undefined;
  }

  /** Closes the backing file (the document is closed). */
  close(): void {
    this.pages?.close();
    this.pages = undefined;
  }

  /** True unless page z is known (from the file's counts) to hold no pixel of class k. */
  mayHoldClass(z: number, k: number): boolean {
    if (!this.sliceLabeled.has(z)) return false;
    if (this.slices.has(z) || !this.pages) return true;
    const p = this.pages.pairs(z);
    for (let i = 0; i + 1 < p.length; i += 2) if (p[i] === k) return p[i + 1] > 0;
    return false;
  }

  get sliceSize(): number {
    return this.width * this.height;
  }

  /**
   * The buffer of slice z, or undefined when it holds no labels (all zeros). A labelled slice of the backing file
   * is decoded now (a few ms for 2048 x 2048). Do not write into it.
   */
  slice(z: number): Uint8Array | undefined {
    const s = this.slices.get(z);
    if (s) {
      if (this.clean.delete(z)) this.clean.set(z, true); // most recently used
      return s;
    }
    if (!this.pages || !this.sliceLabeled.has(z)) return undefined;
    return this.load(z, this.pages);
  }

  /** Slice z as a full buffer (a zero-filled new one when unpainted; not stored). */
  sliceOrZeros(z: number): Uint8Array {
    return this.slice(z) ?? new Uint8Array(this.sliceSize);
  }

  /** Decodes page z of the file; the counts the file claimed are replaced by the decoded pixels' own. */
  private load(z: number, pages: LabelPages): Uint8Array | undefined {
    const data = pages.readPage(z);
    const { labeled, pairs } = countPairs(data);
    this.subtractPairs(pages.pairs(z));
    pages.setCounts(z, labeled, pairs);
    for (let i = 0; i + 1 < pairs.length; i += 2) this.classTotals[pairs[i]] += pairs[i + 1];
    if (labeled === 0) {
      this.sliceLabeled.delete(z);
      return undefined;
    }
    this.sliceLabeled.set(z, labeled);
    this.slices.set(z, data);
    this.clean.set(z, true);
    this.trim(z);
    return data;
  }

  /** Drops the least recently used clean slices over the budget (never `keep`, never a dirty one). */
  private trim(keep?: number): void {
    if (!this.pages) return;
    let bytes = this.clean.size * this.sliceSize;
    for (const z of this.clean.keys()) {
      if (bytes <= this.cleanCacheBytes) break;
      if (z === keep) continue;
      this.clean.delete(z);
      this.slices.delete(z);
      bytes -= this.sliceSize;
    }
  }

  private subtractPairs(p: ClassPairs): void {
    for (let i = 0; i + 1 < p.length; i += 2) this.classTotals[p[i]] -= p[i + 1];
  }

  /** Slice z changes: its buffer (decoded now when it lives in the file) and the marks that it differs from the file. */
  private touch(z: number): Uint8Array | undefined {
    const s = this.slice(z);
    this.dirty.add(z);
    this.clean.delete(z);
    return s;
  }

  /** Replaces slice z wholesale (loading from disk). All-zero data frees the slice. */
  setSlice(z: number, data: Uint8Array): void {
    this.checkSlice(z);
    if (data.length !== this.sliceSize) throw new StackSegError(`label slice ${z} has ${data.length} pixels, expected ${this.sliceSize}`);
    const old = this.slices.get(z);
    if (old) this.count(old, -1);
    else if (this.pages && this.sliceLabeled.has(z)) this.subtractPairs(this.pages.pairs(z));
    this.slices.delete(z);
    this.sliceLabeled.delete(z);
    this.clean.delete(z);
    if (this.pages) this.dirty.add(z);
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
    const s = this.slice(z);
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
    let s = this.touch(z);
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
    let s = this.touch(z);
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
    return this.sliceLabeled.has(z);
  }

  /** Drops every label (an empty stack, no backing file unless `keepFile`: then every page differs from it). */
  clear(keepFile = false): void {
    if (this.pages && keepFile) for (const z of this.sliceLabeled.keys()) this.dirty.add(z);
    else { this.pages?.close(); this.pages = undefined; this.dirty.clear(); }
    this.slices.clear();
    this.clean.clear();
    this.sliceLabeled.clear();
    this.classTotals.fill(0);
  }

  /** Bytes held by the buffers of decoded slices (and at most one spare slice buffer besides, see release). */
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
