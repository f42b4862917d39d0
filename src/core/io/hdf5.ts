// HDF5 datasets through h5wasm (the HDF5 C library in WebAssembly; its Node build reads the file in place, so a
// slice read touches only that slice's chunks). Chunked little-endian datasets with gzip and/or shuffle, the common
// case, are read without it: h5chunks.ts finds the chunks and Node's zlib inflates them off the calling thread. Chunked data with gzip, shuffle, fletcher32, n-bit and
// scale-offset reads; other filters (LZF, Blosc, bitshuffle, ZSTD) are refused by name before any read, because the
// library would otherwise hand back undecoded bytes.

import { promises as fs } from 'node:fs';
import type { FileHandle } from 'node:fs/promises';
import { StackSegError } from '../../shared/errors';
import type { DType, PixelArray, StackInfo } from '../../shared/types';
import { placeChunk, SlabStack, numericDType, toPixelArray } from './slab';
import { DTYPE_BYTES, pixelView } from '../../shared/types';
import { loadLib } from './lazyLib';
import { DXCHANGE_DATA } from './imageSpec';
import { decodeChunk, FAST_FILTERS, openChunkIndex, type ChunkIndex, type ChunkRef, type Filter } from './h5chunks';

/** What we use of h5wasm (typed here: its package types need moduleResolution node16). */
interface H5Metadata { type: number; size: number; signed: boolean; littleEndian: boolean; shape: number[] | null; chunks: number[] | null }
interface H5Dataset { type: string; file_id: bigint; path: string; metadata: H5Metadata; filters: { id: number; name: string; cd_values: number[] }[] }
interface H5File { get(path: string): unknown; paths(): string[]; close(): void }
interface H5Module {
  HEAPU8: Uint8Array; _malloc(n: number): number; _free(p: number): void;
  get_dataset_data(file: bigint, path: string, count: bigint[], offset: bigint[], strides: bigint[], ptr: bigint): void;
  create_object_reference(file: bigint, path: string): Uint8Array;
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

/** Chunks read at once by the direct path (reads and inflates overlap in the threadpool). */
const CHUNK_CONCURRENCY = 8;

interface Direct { fh: FileHandle; index: ChunkIndex; filters: Filter[] }

export class Hdf5Stack extends SlabStack {
  /** Slabs read by the direct path and by h5wasm (tests check which one served). */
  readonly reads = { direct: 0, h5wasm: 0 };
  /** Chunk shape (z, y, x); undefined for contiguous / compact datasets. */
  get chunkShape(): number[] | undefined { return this.meta.chunks ?? undefined; }

  private constructor(info: StackInfo, chunkDepth: number, cacheBytes: number | undefined, private file: H5File, private ds: H5Dataset, private meta: H5Metadata, private direct?: Direct) {
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
        path: spec, width, height, depth, dtype, bytesPerPixel: DTYPE_BYTES[dtype], bigTiff: false, littleEndian: m.littleEndian,
        compression: ds.filters.length ? ds.filters.map((f) => f.name).join('+') : 'none', tiled: !!m.chunks, fileBytes: st.size,
        format: 'hdf5', dataset: name,
      };
      return new Hdf5Stack(info, m.chunks?.[0] ?? 1, opts.cacheBytes, file, ds, m, await openDirect(path, ds, m));
    } catch (e) {
      file.close();
      throw e;
    }
  }

  protected async readSlab(z0: number, z1: number): Promise<PixelArray> {
    const n = (z1 - z0) * this.info.width * this.info.height;
    const m = this.meta;
    let bytes = this.direct ? await this.readDirect(z0, z1) : undefined;
    if (bytes) this.reads.direct++;
    else { bytes = this.readWasm(z0, z1); this.reads.h5wasm++; }
    if (m.type === FLOAT && m.size === 2) return halfToFloat(bytes, n);
    if (m.type === INTEGER && m.size === 8) return toPixelArray(m.signed ? new BigInt64Array(bytes.buffer) : new BigUint64Array(bytes.buffer), 'float64', n, this.info.path);
    return pixelView(this.info.dtype, bytes.buffer, 0, n);
  }

  /** The slab from its chunks, or undefined when some chunk is not allocated (h5wasm then supplies fill values). */
  private async readDirect(z0: number, z1: number): Promise<Uint8Array | undefined> {
    const { fh, index, filters } = this.direct!;
    const { width: W, height: H } = this.info;
    const e = this.meta.size;
    let refs: ChunkRef[] | undefined;
    try {
      refs = await index.lookup(z0, z1);
    } catch {
      return undefined; // an index this parser misreads: HDF5 itself reads it (or names what is wrong)
    }
    if (!refs) return undefined;
    const [cz, cy, cx] = index.chunks;
    const chunkBytes = cz * cy * cx * e;
    // One chunk that is the whole slab (chunks of one full slice): its decoded bytes are the slab, no copy.
    const whole = refs.length === 1 && cy === H && cx === W && refs[0].offset[0] === z0 && cz === z1 - z0;
    let out: Uint8Array | undefined = whole ? undefined : new Uint8Array((z1 - z0) * H * W * e);
    const one = async (r: ChunkRef) => {
      const stored = Buffer.allocUnsafeSlow(r.size); // filled by the read (its length is checked)
      const { bytesRead } = await fh.read(stored, 0, r.size, r.address);
      let c: Uint8Array;
      try {
        if (bytesRead !== r.size) throw new Error(`chunk at ${r.address} is cut short (${bytesRead} of ${r.size} bytes)`);
        c = await decodeChunk(stored, filters, r.filterMask, e, chunkBytes);
        if (c.length !== chunkBytes) throw new Error(`chunk at ${r.address} decodes to ${c.length} bytes, not ${chunkBytes}`);
      } catch (err) {
        throw new StackSegError(`cannot read slices ${z0}..${z1 - 1} of ${this.info.dataset} (${(err as Error).message})`, { file: this.info.path, hint: 'the file may be damaged or truncated' });
      }
      if (!out && c.byteOffset === 0 && c.buffer.byteLength === c.length) { out = c; return; }
      out ??= new Uint8Array((z1 - z0) * H * W * e);
      placeChunk(c, r.offset, index.chunks, out, z0, z1, H, W, e);
    };
    for (let i = 0; i < refs.length; i += CHUNK_CONCURRENCY) await Promise.all(refs.slice(i, i + CHUNK_CONCURRENCY).map(one));
    return out!;
  }

  /** Reads the hyperslab straight into the WebAssembly heap and takes one copy out (h5wasm's slice() refuses float16). */
  private readWasm(z0: number, z1: number): Uint8Array {
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
    return bytes;
  }

  protected async release(): Promise<void> {
    this.file.close();
    await this.direct?.fh.close();
  }
}

/** The direct path for a chunked little-endian dataset whose filters are gzip/shuffle only; else undefined. */
async function openDirect(path: string, ds: H5Dataset, m: H5Metadata): Promise<Direct | undefined> {
  if (!m.chunks || m.chunks.length !== 3 || !m.littleEndian || !ds.filters.every((f) => FAST_FILTERS.has(f.id))) return undefined;
  let fh: FileHandle | undefined;
  try {
    const ref = module.create_object_reference(ds.file_id, ds.path);
    const addr = Number(Buffer.from(ref).readBigUInt64LE(0));
    fh = await fs.open(path, 'r');
    const index = await openChunkIndex(fh, addr, m.shape!, m.size);
    if (index && index.chunks.every((c, i) => c === m.chunks![i])) return { fh, index, filters: ds.filters };
  } catch { /* a layout this parser does not know: h5wasm reads it */ }
  await fh?.close();
  return undefined;
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
