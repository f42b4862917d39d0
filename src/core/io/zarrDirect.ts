// Direct slab reads for the most common Zarr arrays (v2, 3D, C order, no filters, Blosc / gzip / zlib / none,
// little-endian 8/16/32-bit integers and floats): the chunk files a slab needs are read and decoded here, 8 at a
// time, straight into the slab, without zarrita's generic indexing (which allocates and copies each chunk twice).
// A chunk file that does not exist holds the fill value, as in Zarr. Anything else returns undefined from
// openZarrDirect and zarr.ts keeps using zarrita.

import { promises as fs } from 'node:fs';
import { join } from 'node:path';
import { promisify } from 'node:util';
import * as zlib from 'node:zlib';
import type { DType } from '../../shared/types';
import { bloscDecode } from './blosc';
import { placeChunk } from './slab';

const gunzip = promisify(zlib.gunzip), inflate = promisify(zlib.inflate);

const DTYPES: Record<string, DType> = {
  '|u1': 'uint8', '|i1': 'int8', '<u2': 'uint16', '<i2': 'int16', '<u4': 'uint32', '<i4': 'int32', '<f4': 'float32', '<f8': 'float64',
  '|b1': 'uint8',
};

export interface ZarrDirect {
  readSlab(z0: number, z1: number, out: Uint8Array): Promise<void>;
}

interface V2Meta { zarr_format?: number; shape?: number[]; chunks?: number[]; dtype?: string; order?: string; filters?: unknown[] | null; compressor?: { id?: string } | null; fill_value?: unknown; dimension_separator?: string }

/** The direct reader for the v2 array in dir, or undefined when its metadata asks for something not done here. */
export async function openZarrDirect(dir: string, dtype: DType, decodeFallback: (bytes: Uint8Array) => Promise<Uint8Array>): Promise<ZarrDirect | undefined> {
  let m: V2Meta;
  try { m = JSON.parse(await fs.readFile(join(dir, '.zarray'), 'utf8')); } catch { return undefined; }
  const id = m.compressor?.id;
  if (m.zarr_format !== 2 || m.shape?.length !== 3 || m.chunks?.length !== 3 || m.order !== 'C' || (m.filters && m.filters.length > 0)) return undefined;
  if (DTYPES[m.dtype ?? ''] !== dtype || (m.compressor && !['blosc', 'gzip', 'zlib'].includes(id ?? ''))) return undefined;
  const fill = typeof m.fill_value === 'number' ? m.fill_value : m.fill_value === null || m.fill_value === undefined ? 0 : undefined;
  if (fill === undefined) return undefined; // NaN / Infinity written as strings: zarrita knows them
  const [D, H, W] = m.shape, chunks = m.chunks;
  const e = Number(m.dtype!.slice(2));
  const sep = m.dimension_separator === '/' ? '/' : '.';
  const chunkBytes = chunks[0] * chunks[1] * chunks[2] * e;
  const decode = async (b: Uint8Array, into?: Uint8Array): Promise<Uint8Array> => {
    if (!m.compressor) return b;
    if (id === 'blosc') return bloscDecode(b, into) ?? decodeFallback(b);
    // One output piece of the chunk's size (zlib's default 16 KB pieces cost a JS callback each).
    const out = await (id === 'gzip' ? gunzip : inflate)(b, { chunkSize: chunkBytes + 1024 });
    return new Uint8Array(out.buffer, out.byteOffset, out.byteLength);
  };
  const fillChunk = (): Uint8Array => {
    const c = new Uint8Array(chunkBytes);
    if (fill !== 0) {
      const T = { 1: dtype === 'int8' ? Int8Array : Uint8Array, 2: dtype === 'int16' ? Int16Array : Uint16Array, 4: dtype === 'float32' ? Float32Array : dtype === 'int32' ? Int32Array : Uint32Array, 8: Float64Array }[e]!;
      new T(c.buffer).fill(fill);
    }
    return c;
  };
  const gy = Math.ceil(H / chunks[1]), gx = Math.ceil(W / chunks[2]);
  const fileOf = (iz: number, iy: number, ix: number) => join(dir, [iz, iy, ix].join(sep));
  const readChunkFile = (f: string): Promise<Uint8Array | undefined> => fs.readFile(f).then(
    (b) => new Uint8Array(b.buffer, b.byteOffset, b.byteLength),
    (err) => { if ((err as NodeJS.ErrnoException).code === 'ENOENT') return undefined; throw err; },
  );
  // Read-ahead for slices read in order (jobs, scrolling): the next chunk row's files are read while this one
  // decodes. At most one row of one-chunk-wide rows is held (8 files).
  let prefetched = new Map<string, Promise<Uint8Array | undefined>>();
  let nextRow = -1;
  const prefetch = (iz: number) => {
    prefetched = new Map();
    if (gy * gx > 8 || iz * chunks[0] >= D) return;
    for (let iy = 0; iy < gy; iy++) for (let ix = 0; ix < gx; ix++) {
      const f = fileOf(iz, iy, ix), p = readChunkFile(f);
      p.catch(() => undefined); // reported when read for real
      prefetched.set(f, p);
    }
  };
  return {
    async readSlab(z0, z1, out) {
      const row0 = Math.floor(z0 / chunks[0]), row1 = Math.ceil(Math.min(z1, D) / chunks[0]);
      const ahead = prefetched;
      if (row0 === nextRow) prefetch(row1); else prefetched = new Map();
      nextRow = row1;
      const jobs: (() => Promise<void>)[] = [];
      for (let iz = row0; iz < row1; iz++) {
        for (let iy = 0; iy < gy; iy++) {
          for (let ix = 0; ix < gx; ix++) {
            jobs.push(async () => {
              const offset = [iz * chunks[0], iy * chunks[1], ix * chunks[2]];
              const f = fileOf(iz, iy, ix);
              const bytes = await (ahead.get(f) ?? readChunkFile(f));
              // The chunk is the whole slab: decode straight into it.
              const exact = gy === 1 && gx === 1 && chunks[1] === H && chunks[2] === W && offset[0] === z0 && z1 - z0 === chunks[0] && out.length === chunkBytes;
              const c = bytes ? await decode(bytes, exact ? out : undefined) : fillChunk();
              if (c.length !== chunkBytes) throw new Error(`chunk ${[iz, iy, ix].join(sep)} decodes to ${c.length} bytes, not ${chunkBytes}`);
              if (c.buffer !== out.buffer) placeChunk(c, offset, chunks, out, z0, z1, H, W, e);
            });
          }
        }
      }
      for (let i = 0; i < jobs.length; i += 8) await Promise.all(jobs.slice(i, i + 8).map((j) => j()));
    },
  };
}
