// A folder (or a glob) of single-image TIFFs as one stack, in natural order. Opening lists the folder and parses
// the first file's directory only; every other file is opened when its slice is first read, and checked then
// against the first (size, dtype, one image), so 2000 files open in the time of one.

import { promises as fs } from 'node:fs';
import { basename, join } from 'node:path';
import { StackSegError } from '../../shared/errors';
import { SliceCache } from '../../shared/lru';
import { DEFAULT_CACHE_BYTES, openStack } from '../tiff/reader';
import type { PixelArray, SliceSource, StackInfo } from '../../shared/types';
import { globToRegExp, naturalCompare } from './imageSpec';

const TIFF_NAME = /\.tiff?$/i;

export interface FolderOptions { cacheBytes?: number }

/** The TIFF files of a folder (or those matching a glob), natural order; hidden files (`.`, `._x.tif`) skipped. */
export async function listStackFiles(dir: string, pattern?: string): Promise<string[]> {
  let names: string[];
  try {
    names = await fs.readdir(dir);
  } catch (e) {
    const code = (e as NodeJS.ErrnoException).code;
    throw new StackSegError(code === 'ENOENT' ? 'folder not found' : `cannot list the folder (${code ?? String(e)})`, { file: dir, hint: 'check the path and permissions' });
  }
  const re = pattern ? globToRegExp(pattern) : TIFF_NAME;
  return names.filter((n) => !n.startsWith('.') && re.test(n)).sort(naturalCompare);
}

export class FolderStack implements SliceSource {
  private cache: SliceCache;
  private inflight = new Map<number, Promise<PixelArray>>();
  private checked = new Set<number>();
  private closed = false;

  private constructor(readonly info: StackInfo, private readonly files: string[], cacheBytes: number) {
    this.cache = new SliceCache(cacheBytes);
  }

  static async open(dir: string, pattern: string | undefined, spec: string, opts: FolderOptions = {}): Promise<FolderStack> {
    const names = await listStackFiles(dir, pattern);
    if (names.length === 0) {
      throw new StackSegError(pattern ? `no file matches "${pattern}"` : 'no .tif or .tiff files in this folder', {
        file: dir, hint: pattern ? 'check the pattern (quote it so the shell does not expand it), e.g. --image \'recon_*.tiff\'' : 'a folder stack holds one TIFF per slice, e.g. recon_00000.tiff, recon_00001.tiff, …',
      });
    }
    const files = names.map((n) => join(dir, n));
    const first = await openStack(files[0], { cacheBytes: 0 });
    try {
      if (first.info.depth !== 1) {
        throw new StackSegError(`has ${first.info.depth} images; a folder stack needs one image per file`, {
          file: files[0], hint: 'open that multi-page TIFF by itself, or keep only single-image TIFFs in the folder',
        });
      }
      const i = first.info;
      const info: StackInfo = {
        ...i, path: spec, depth: files.length, fileBytes: i.fileBytes * files.length, imagej: undefined,
        format: 'folder', files: files.length,
      };
      const stack = new FolderStack(info, files, opts.cacheBytes ?? DEFAULT_CACHE_BYTES);
      stack.checked.add(0);
      return stack;
    } finally {
      await first.close();
    }
  }

  /** The file holding slice z. */
  fileOf(z: number): string { return this.files[z]; }

  async readSlice(z: number): Promise<PixelArray> {
    const s = await this.readSliceShared(z);
    return this.cache.capacityBytes > 0 ? s.slice() : s;
  }

  readSliceShared(z: number): Promise<PixelArray> {
    if (this.closed) return Promise.reject(new StackSegError('the stack is closed', { file: this.info.path }));
    if (!Number.isInteger(z) || z < 0 || z >= this.info.depth) {
      return Promise.reject(new StackSegError(`slice ${z} is out of range (0..${this.info.depth - 1})`, { file: this.info.path }));
    }
    const hit = this.cache.get(z);
    if (hit) return Promise.resolve(hit);
    let p = this.inflight.get(z);
    if (!p) {
      p = this.load(z).finally(() => this.inflight.delete(z));
      this.inflight.set(z, p);
    }
    return p;
  }

  private async load(z: number): Promise<PixelArray> {
    const file = this.files[z];
    let tif;
    try {
      tif = await openStack(file, { cacheBytes: 0 });
    } catch (e) {
      if (e instanceof StackSegError && /file not found/.test(e.what)) {
        throw new StackSegError('file not found (it was in the folder when the stack was opened)', { file, hint: 'the folder changed; open it again' });
      }
      throw e;
    }
    try {
      if (!this.checked.has(z)) this.check(tif.info, file);
      const data = await tif.readSlice(0);
      this.checked.add(z);
      this.cache.set(z, data);
      return data;
    } finally {
      await tif.close();
    }
  }

  /** One message naming the file that differs from the first, and how. */
  private check(i: StackInfo, file: string): void {
    const a = this.info;
    const what = (x: { width: number; height: number; dtype: string }) => `${x.width}×${x.height} ${x.dtype}`;
    const differs = i.width !== a.width || i.height !== a.height || i.dtype !== a.dtype;
    if (differs || i.depth !== 1) {
      throw new StackSegError(
        differs ? `is ${what(i)} but the first file, ${basename(this.files[0])}, is ${what(a)}; every file of a folder stack must share size and dtype`
          : `has ${i.depth} images; a folder stack needs one image per file`,
        { file, hint: 'move the files that differ out of the folder, or open a glob that leaves them out, e.g. \'recon_*.tiff\'' },
      );
    }
  }

  /** Opens every file's directory (not its pixels) and checks it; for jobs that want the whole stack checked first. */
  async checkAll(signal?: AbortSignal): Promise<void> {
    for (let z = 0; z < this.files.length; z++) {
      if (this.checked.has(z)) continue;
      signal?.throwIfAborted();
      const tif = await openStack(this.files[z], { cacheBytes: 0 });
      try { this.check(tif.info, this.files[z]); this.checked.add(z); } finally { await tif.close(); }
    }
  }

  async close(): Promise<void> {
    this.closed = true;
    this.cache.clear();
  }
}
