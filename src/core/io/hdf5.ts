// HDF5 datasets through h5wasm (the HDF5 C library in WebAssembly; its Node build reads the file in place, so a
// slice read touches only that slice's chunks). Chunked data with gzip, shuffle, fletcher32, n-bit and
// scale-offset reads; other filters (LZF, Blosc, bitshuffle, ZSTD) are refused by name before any read, because the
// library would otherwise hand back undecoded bytes.

import { promises as fs } from 'node:fs';
import { StackSegError } from '../errors';
import type { DType, PixelArray, StackInfo } from '../types';
import { allocView, SlabStack, BYTES, numericDType, toPixelArray } from './slab';
import { loadLib } from './lazyLib';
import { DXCHANGE_DATA } from './spec';

/** What we use of h5wasm (typed here: its package types need moduleResolution node16). */
interface H5Metadata { type: number; size: number; signed: boolean; littleEndian: boolean; shape: number[] | null; chunks: number[] | null }
interface H5Dataset { type: string; file_id: bigint; path: string; metadata: H5Metadata; filters: { id: number; name: string }[] }
interface H5File { get(path: string): unknown; paths(): string[]; close(): void }
interface H5Module {
  HEAPU8: Uint8Array; _malloc(n: number): number; _free(p: number): void;
  get_dataset_data(file: bigint, path: string, count: bigint[], offset: bigint[], strides: bigint[], ptr: bigint): void;
}
interface H5Lib { ready: Promise<H5Module>; File: new (path: string, mode: string) => H5File }

let lib: Promise<H5Lib> | undefined;
let module: H5Module;

export function loadH5wasm(): Promise<H5Lib> {
  lib ??= (async () => {
    const mod = await loadLib<{ default?: H5Lib }>('h5wasm', 'h5wasm/node');
    const h5 = (mod.default ?? mod) as H5Lib;
    module = await h5.ready;
    return h5;
  })();
  return lib;
}

const INTEGER = 0, FLOAT = 1;
/** Filters built into HDF5 itself: deflate (gzip), shuffle, fletcher32, n-bit, scale-offset. */
const BUILT_IN_FILTERS = new Set([1, 2, 3, 5, 6]);
const FILTER_NAMES: Record<number, string> = { 4: 'szip', 307: 'bzip2', 32000: 'lzf', 32001: 'blosc', 32004: 'lz4', 32008: 'bitshuffle', 32015: 'zstd', 32026: 'blosc2' };

export interface DatasetEntry { path: string; shape: number[]; dtype: string }

function isDataset(x: unknown): x is H5Dataset {
  return typeof x === 'object' && x !== null && (x as { type?: unknown }).type === 'Dataset';
}

function dtypeOf(m: H5Metadata): DType | undefined {
  if (m.type === FLOAT) return m.size === 2 ? 'float32' : numericDType('float', m.size);
  if (m.type === INTEGER) return numericDType(m.signed ? 'int' : 'uint', m.size);
  return undefined;
}

const shapeText = (s: number[]) => s.join('×');

/** Every numeric dataset of 3 dimensions in the file, with shape and dtype (for the quick pick and messages). */
export function list3D(file: H5File): DatasetEntry[] {
  const out: DatasetEntry[] = [];
  for (const p of file.paths().slice(0, 20_000)) {
    let d: unknown;
    try { d = file.get(p); } catch { continue; }
    if (!isDataset(d)) continue;
    const m = d.metadata;
    const dt = dtypeOf(m);
    if (m.shape?.length === 3 && dt) out.push({ path: p.startsWith('/') ? p : `/${p}`, shape: m.shape, dtype: dt });
  }
  return out;
}

export class Hdf5Stack extends SlabStack {
  private constructor(info: StackInfo, chunkDepth: number, cacheBytes: number | undefined, private file: H5File, private ds: H5Dataset, private meta: H5Metadata) {
    super(info, chunkDepth, cacheBytes);
  }

  static async open(path: string, dataset: string | undefined, spec: string, opts: { cacheBytes?: number } = {}): Promise<Hdf5Stack> {
    let st;
    try { st = await fs.stat(path); } catch (e) {
      const code = (e as NodeJS.ErrnoException).code;
      throw new StackSegError(code === 'ENOENT' ? 'file not found' : `cannot open the file (${code})`, { file: path, hint: 'check the path and permissions' });
    }
    const h5 = await loadH5wasm();
    let file: H5File;
    try {
      file = new h5.File(path, 'r');
    } catch (e) {
      throw new StackSegError(`is not a readable HDF5 file (${(e as Error).message})`, { file: path, hint: 'check that the file is complete (not still being written) and is HDF5' });
    }
    try {
      const name = dataset ?? pickDefault(file, path);
      const ds = file.get(name);
      if (!isDataset(ds)) {
        throw new StackSegError(`has no dataset "${name}"`, { file: path, hint: describeChoices(file, path) });
      }
      const m = ds.metadata;
      const dtype = dtypeOf(m);
      if (!m.shape || m.shape.length !== 3 || !dtype) {
        throw new StackSegError(`dataset ${name} is ${m.shape ? shapeText(m.shape) : 'scalar'} ${dtype ?? 'non-numeric'}; StackSeg reads 3D numeric datasets (slices × rows × columns)`, { file: path, hint: describeChoices(file, path) });
      }
      const bad = ds.filters.filter((f) => !BUILT_IN_FILTERS.has(f.id));
      if (bad.length > 0) {
        const names = bad.map((f) => FILTER_NAMES[f.id] ?? f.name ?? `filter ${f.id}`).join(', ');
        throw new StackSegError(`dataset ${name} is compressed with ${names}, which StackSeg's HDF5 reader cannot decode (it reads gzip, shuffle, n-bit, scale-offset)`, {
          file: path, hint: `rewrite it with gzip, e.g. h5repack -f ${name}:GZIP=4 ${path} out.h5`,
        });
      }
      const [depth, height, width] = m.shape;
      const info: StackInfo = {
        path: spec, width, height, depth, dtype, bytesPerPixel: BYTES[dtype], bigTiff: false, littleEndian: m.littleEndian,
        compression: ds.filters.length ? ds.filters.map((f) => f.name).join('+') : 'none', tiled: !!m.chunks, fileBytes: st.size,
        format: 'hdf5', dataset: name,
      };
      return new Hdf5Stack(info, m.chunks?.[0] ?? 1, opts.cacheBytes, file, ds, m);
    } catch (e) {
      file.close();
      throw e;
    }
  }

  /** Reads the hyperslab straight into the WebAssembly heap and takes one copy out (h5wasm's slice() refuses float16). */
  protected async readSlab(z0: number, z1: number): Promise<PixelArray> {
    const { width, height } = this.info;
    const n = (z1 - z0) * width * height;
    const m = this.meta;
    const ptr = module._malloc(n * m.size);
    if (ptr === 0) throw new StackSegError(`not enough memory to read slices ${z0}..${z1 - 1}`, { file: this.info.path });
    let bytes: Uint8Array;
    try {
      // HDF5 converts to the native (little-endian) type: big-endian files arrive converted.
      module.get_dataset_data(this.ds.file_id, this.ds.path, [BigInt(z1 - z0), BigInt(height), BigInt(width)], [BigInt(z0), 0n, 0n], [1n, 1n, 1n], BigInt(ptr));
      bytes = module.HEAPU8.slice(ptr, ptr + n * m.size);
    } catch (e) {
      throw new StackSegError(`cannot read slices ${z0}..${z1 - 1} of ${this.info.dataset} (${(e as Error).message})`, { file: this.info.path, hint: 'the file may be damaged or truncated' });
    } finally {
      module._free(ptr);
    }
    if (m.type === FLOAT && m.size === 2) return halfToFloat(bytes, n);
    if (m.type === INTEGER && m.size === 8) return toPixelArray(m.signed ? new BigInt64Array(bytes.buffer) : new BigUint64Array(bytes.buffer), 'float64', n, this.info.path);
    return allocView(this.info.dtype, bytes.buffer, n);
  }

  protected async release(): Promise<void> { this.file.close(); }
}

/** /exchange/data when present, else the only 3D dataset; else the choices in one message. */
function pickDefault(file: H5File, path: string): string {
  if (isDataset(safeGet(file, DXCHANGE_DATA))) return DXCHANGE_DATA;
  const all = list3D(file);
  if (all.length === 1) return all[0].path;
  throw new StackSegError(all.length === 0 ? 'has no 3D numeric dataset' : `has ${all.length} 3D datasets and no ${DXCHANGE_DATA}; say which one`, { file: path, hint: describeChoices(file, path, all) });
}

function safeGet(file: H5File, p: string): unknown {
  try { return file.get(p); } catch { return undefined; }
}

function describeChoices(file: H5File, path: string, all = list3D(file)): string {
  if (all.length === 0) return 'StackSeg reads 3D datasets (slices × rows × columns); this file has none';
  const shown = all.slice(0, 8).map((d) => `${path}:${d.path} (${shapeText(d.shape)} ${d.dtype})`).join(', ');
  return `name one as FILE:DATASET: ${shown}${all.length > 8 ? `, … (${all.length} in all)` : ''}`;
}

/** IEEE half floats to float32. */
function halfToFloat(view: ArrayBufferView, n: number): Float32Array {
  const h = new Uint16Array(view.buffer, view.byteOffset, n);
  const out = new Float32Array(n);
  for (let i = 0; i < n; i++) {
    const x = h[i], s = x & 0x8000 ? -1 : 1, e = (x >> 10) & 0x1f, f = x & 0x3ff;
    out[i] = e === 0 ? s * f * 2 ** -24 : e === 31 ? (f ? NaN : s * Infinity) : s * (1 + f / 1024) * 2 ** (e - 15);
  }
  return out;
}

/** The 3D datasets of an HDF5 file, for the viewer's quick pick. */
export async function listHdf5Datasets(path: string): Promise<{ entries: DatasetEntry[]; hasDefault: boolean }> {
  const h5 = await loadH5wasm();
  const file = new h5.File(path, 'r');
  try {
    return { entries: list3D(file), hasDefault: isDataset(safeGet(file, DXCHANGE_DATA)) };
  } finally {
    file.close();
  }
}
