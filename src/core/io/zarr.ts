// Zarr v2 / v3 arrays and OME-Zarr images through zarrita. Chunks are fetched from disk when a slice needs them.
// An OME-Zarr group opens at level 0 of its first multiscale (its other levels are listed in info.levels for the
// viewer); a plain group with one 3D array opens that array; otherwise the message lists the arrays.

import { promises as fs } from 'node:fs';
import { join, relative, sep } from 'node:path';
import { StackSegError } from '../../shared/errors';
import type { DType, PixelArray, StackInfo } from '../../shared/types';
import { loadLib } from './lazyLib';
import { installFastCodecs } from './zarrCodecs';
import { openZarrDirect, type ZarrDirect } from './zarrDirect';
import { SlabStack, toPixelArray } from './slab';
import { DTYPE_BYTES, pixelView } from '../../shared/types';

/** zarrita's store contract: get(key) -> bytes or undefined. Keys are absolute ("/0/.zarray"). */
class FolderStore {
  constructor(readonly root: string) {}
  async get(key: string): Promise<Uint8Array | undefined> {
    try {
      const b = await fs.readFile(join(this.root, ...key.split('/').filter(Boolean)));
      return new Uint8Array(b.buffer, b.byteOffset, b.byteLength);
    } catch (e) {
      if ((e as NodeJS.ErrnoException).code === 'ENOENT') return undefined;
      throw e;
    }
  }
}

type Zarrita = typeof import('zarrita');
type ZArray = Awaited<ReturnType<Zarrita['open']['v2']>> & { shape: number[]; chunks: number[]; dtype: string };
let zarrLib: Promise<Zarrita> | undefined;
const loadZarrita = (): Promise<Zarrita> => (zarrLib ??= loadLib<Zarrita>('zarrita', 'zarrita').then((z) => {
  installFastCodecs(z.registry as never);
  return z;
}));

const DTYPES: Record<string, DType> = {
  uint8: 'uint8', int8: 'int8', uint16: 'uint16', int16: 'int16', uint32: 'uint32', int32: 'int32',
  float32: 'float32', float64: 'float64', int64: 'float64', uint64: 'float64', bool: 'uint8',
};

interface Axis { name: string; type?: string }
interface Multiscale { axes?: (Axis | string)[]; datasets: { path: string }[] }

/** Whatever opened at the path: an array, or a group's attributes. */
async function openNode(z: Zarrita, store: FolderStore, path: string) {
  const loc = z.root(store).resolve(path || '/');
  try {
    return await z.open(loc);
  } catch (e) {
    throw new StackSegError(`is not a Zarr array or group${path ? ` at "${path}"` : ''} (${(e as Error).message})`, {
      file: store.root, hint: 'a Zarr store holds .zarray/.zgroup (v2) or zarr.json (v3) files',
    });
  }
}

/** Arrays below root (relative paths), found from their metadata files, to name the choices. */
export async function listZarrArrays(root: string, maxDepth = 4): Promise<{ path: string; shape: number[]; dtype: string }[]> {
  const out: { path: string; shape: number[]; dtype: string }[] = [];
  async function walk(dir: string, depth: number): Promise<void> {
    let names: string[];
    try { names = await fs.readdir(dir); } catch { return; }
    for (const meta of ['.zarray', 'zarr.json']) {
      if (!names.includes(meta)) continue;
      try {
        const j = JSON.parse(await fs.readFile(join(dir, meta), 'utf8'));
        if (meta === '.zarray' || j.node_type === 'array') {
          out.push({ path: relative(root, dir).split(sep).join('/'), shape: j.shape, dtype: typeof j.dtype === 'string' ? j.dtype : j.data_type });
          return;
        }
      } catch { /* unreadable metadata: not listed */ }
    }
    if (depth >= maxDepth) return;
    for (const n of names.sort()) {
      if (n.startsWith('.') || n === 'zarr.json') continue;
      const st = await fs.stat(join(dir, n)).catch(() => undefined);
      if (st?.isDirectory()) await walk(join(dir, n), depth + 1);
    }
  }
  await walk(root, 0);
  return out;
}

export class ZarrStack extends SlabStack {
  /** Slabs read by the direct path (zarrDirect.ts) and by zarrita (tests check which one served). */
  readonly reads = { direct: 0, zarrita: 0 };

  private constructor(info: StackInfo, chunkDepth: number, cacheBytes: number | undefined, private z: Zarrita, private arr: ZArray, private lead: (number | null)[], private zAxis: number, private direct?: ZarrDirect) {
    super(info, chunkDepth, cacheBytes);
  }

  static async open(storePath: string, arrayPath: string | undefined, spec: string, opts: { cacheBytes?: number } = {}): Promise<ZarrStack> {
    const st = await fs.stat(storePath).catch(() => undefined);
    if (!st?.isDirectory()) throw new StackSegError(st ? 'is a file, not a Zarr folder' : 'folder not found', { file: storePath, hint: 'pass the .zarr folder' });
    const z = await loadZarrita();
    const store = new FolderStore(storePath);
    let path = arrayPath ?? '';
    let node = await openNode(z, store, path);
    let levels: string[] | undefined;
    let axes: string[] | undefined;
    if (node instanceof z.Group) {
      const attrs = node.attrs as { multiscales?: Multiscale[]; ome?: { multiscales?: Multiscale[] } };
      const ms = attrs.ome?.multiscales?.[0] ?? attrs.multiscales?.[0];
      if (ms?.datasets?.length) {
        levels = ms.datasets.map((d) => joinPath(path, d.path));
        axes = ms.axes?.map((a) => (typeof a === 'string' ? a : a.name));
        path = levels[0];
      } else {
        const arrays = await listZarrArrays(join(storePath, ...path.split('/').filter(Boolean)));
        const threeD = arrays.filter((a) => a.shape?.length === 3);
        if (threeD.length !== 1) {
          const shown = arrays.slice(0, 8).map((a) => `${joinPath(path, a.path)} (${a.shape?.join('×')} ${a.dtype})`).join(', ');
          throw new StackSegError(arrays.length ? `is a Zarr group with ${arrays.length} arrays and no OME-Zarr multiscales; say which one` : 'is a Zarr group with no arrays', {
            file: storePath, hint: arrays.length ? `name one as STORE:ARRAY, e.g. ${storePath}:${joinPath(path, arrays[0].path)}; arrays: ${shown}` : 'pass a folder that holds a Zarr array',
          });
        }
        path = joinPath(path, threeD[0].path);
      }
      node = await openNode(z, store, path);
    }
    if (!(node instanceof z.Array)) throw new StackSegError(`"${path}" is not a Zarr array`, { file: storePath });
    const arr = node as unknown as ZArray;
    const dtype = DTYPES[arr.dtype];
    if (!dtype) {
      throw new StackSegError(`array ${path || '/'} has data type ${arr.dtype}; StackSeg reads integer and float arrays`, { file: storePath, hint: 'convert it to uint8, uint16 or float32' });
    }
    const { zAxis, lead } = pickAxes(arr.shape, axes, storePath, path);
    const nd = arr.shape.length;
    const [height, width] = arr.shape.slice(nd - 2);
    const depth = zAxis >= 0 ? arr.shape[zAxis] : 1;
    const info: StackInfo = {
      path: spec, width, height, depth, dtype, bytesPerPixel: DTYPE_BYTES[dtype], bigTiff: false, littleEndian: true,
      compression: await compressionOf(storePath, path), tiled: true, fileBytes: 0, format: 'zarr', dataset: path || '/',
    };
    if (levels && levels.length > 1) (info as StackInfo & { levels?: string[] }).levels = levels;
    const storedLevels = levels && levels.length > 1 && zAxis >= 0 ? { store: storePath, paths: levels.slice(1), spec } : undefined;
    // Plain 3D v2 arrays (most of what python3-zarr writes) skip zarrita's generic indexing.
    const direct = arr.shape.length === 3 && zAxis === 0 ? await openZarrDirect(join(storePath, ...path.split('/').filter(Boolean)), dtype, async (b) => {
      const Blosc = await (z.registry as unknown as Map<string, () => Promise<{ fromConfig(c: object): { decode(b: Uint8Array): Promise<Uint8Array> } }>>).get('numcodecs.blosc')!();
      return Blosc.fromConfig({}).decode(b);
    }) : undefined;
    const stack = new ZarrStack(info, zAxis >= 0 ? arr.chunks[zAxis] : 1, opts.cacheBytes, z, arr, lead, zAxis, direct);
    stack.storedLevels = storedLevels;
    return stack;
  }

  /** Chunk shape over (z, y, x): 1 along z for a 2D array. */
  get chunkShape(): number[] {
    const c = this.arr.chunks, nd = c.length;
    return [this.zAxis >= 0 ? c[this.zAxis] : 1, c[nd - 2], c[nd - 1]];
  }

  protected async readSlab(z0: number, z1: number): Promise<PixelArray> {
    if (this.direct) {
      const out = new Uint8Array((z1 - z0) * this.info.width * this.info.height * this.info.bytesPerPixel);
      try {
        await this.direct.readSlab(z0, z1, out);
      } catch (e) {
        throw new StackSegError(`cannot read slices ${z0}..${z1 - 1} (${(e as Error).message})`, { file: this.info.path, hint: 'a chunk file may be damaged' });
      }
      this.reads.direct++;
      return pixelView(this.info.dtype, out.buffer, 0, out.length / this.info.bytesPerPixel);
    }
    this.reads.zarrita++;
    const sel: (number | null | ReturnType<Zarrita['slice']>)[] = this.lead.map((v) => v);
    if (this.zAxis >= 0) sel[this.zAxis] = this.z.slice(z0, z1);
    sel.push(null, null);
    let res: { data: unknown; shape: number[]; stride: number[] };
    try {
      res = await this.z.get(this.arr as never, sel as never) as never;
    } catch (e) {
      throw new StackSegError(`cannot read slices ${z0}..${z1 - 1} (${(e as Error).message})`, { file: this.info.path, hint: 'a chunk file may be missing or damaged' });
    }
    const n = (z1 - z0) * this.info.width * this.info.height;
    const data = toPixelArray(res.data, this.info.dtype, n, this.info.path);
    return cOrder(data, res.shape, res.stride);
  }

  /** OME-Zarr levels after level 0, opened on first use as stacks of their own. */
  private storedLevels?: { store: string; paths: string[]; spec: string };
  private levelStacks?: Promise<Map<number, ZarrStack>>;

  /**
   * Slice z at factor f from the multiscale level that keeps every z slice and is ceil(W / f) x ceil(H / f) (levels
   * that also halve z, or of other sizes, do not serve the viewer's levels); undefined when there is none.
   */
  async readStoredLevel(z: number, f: number): Promise<PixelArray | undefined> {
    if (!this.storedLevels || this.closed) return undefined;
    this.levelStacks ??= this.openLevels(this.storedLevels);
    const level = (await this.levelStacks).get(f);
    return level?.readSlice(z);
  }

  private async openLevels(s: { store: string; paths: string[]; spec: string }): Promise<Map<number, ZarrStack>> {
    const out = new Map<number, ZarrStack>();
    const { width, height, depth, dtype } = this.info;
    for (const p of s.paths) {
      const level = await ZarrStack.open(s.store, p, `${s.spec}:${p}`, { cacheBytes: 0 }).catch(() => undefined);
      if (!level) continue;
      const f = Math.round(width / level.info.width);
      const ok = f > 1 && (f & (f - 1)) === 0 && level.info.depth === depth && level.info.dtype === dtype
        && level.info.width === Math.ceil(width / f) && level.info.height === Math.ceil(height / f) && !out.has(f);
      if (ok) out.set(f, level);
      else await level.close();
    }
    return out;
  }

  protected async release(): Promise<void> {
    // Chunks are read file by file: only the level stacks to close.
    const levels = await this.levelStacks?.catch(() => undefined);
    await Promise.all([...(levels?.values() ?? [])].map((l) => l.close()));
  }
}

/** Leading axes other than z must have size 1 (time, channel): index 0 of each. */
function pickAxes(shape: number[], axes: string[] | undefined, file: string, path: string): { zAxis: number; lead: (number | null)[] } {
  const nd = shape.length;
  if (nd < 2) throw new StackSegError(`array ${path || '/'} has ${nd} dimension(s); StackSeg reads 3D arrays`, { file });
  const names = axes && axes.length === nd ? axes : undefined;
  const zAxis = names ? names.indexOf('z') : nd - 3;
  const lead: (number | null)[] = [];
  for (let i = 0; i < nd - 2; i++) {
    if (i === zAxis) { lead.push(null); continue; }
    if (shape[i] !== 1) {
      const label = names ? `axis ${names[i]}` : `axis ${i}`;
      throw new StackSegError(`array ${path || '/'} is ${shape.join('×')}: ${label} has ${shape[i]} entries; StackSeg reads one volume (z, y, x)`, {
        file, hint: 'write one channel / time point as its own array, or pass that array as STORE:ARRAY',
      });
    }
    lead.push(0);
  }
  return { zAxis, lead };
}

function cOrder(data: PixelArray, shape: number[], stride: number[]): PixelArray {
  const nd = shape.length;
  let want = 1, c = true;
  for (let i = nd - 1; i >= 0; i--) { if (shape[i] > 1 && stride[i] !== want) c = false; want *= shape[i]; }
  if (c) return data;
  const out = new (data.constructor as new (n: number) => PixelArray)(data.length);
  const idx = new Array(nd).fill(0);
  for (let o = 0; o < out.length; o++) {
    let src = 0;
    for (let i = 0; i < nd; i++) src += idx[i] * stride[i];
    out[o] = data[src];
    for (let i = nd - 1; i >= 0; i--) { if (++idx[i] < shape[i]) break; idx[i] = 0; }
  }
  return out;
}

/** The compressor named in the array's metadata: blosc, gzip, zstd, … ('none' when raw). */
async function compressionOf(store: string, path: string): Promise<string> {
  const dir = join(store, ...path.split('/').filter(Boolean));
  try {
    const v2 = JSON.parse(await fs.readFile(join(dir, '.zarray'), 'utf8'));
    return v2.compressor?.id ?? 'none';
  } catch { /* not v2 */ }
  try {
    const v3 = JSON.parse(await fs.readFile(join(dir, 'zarr.json'), 'utf8'));
    const names = (v3.codecs ?? []).map((c: { name?: string }) => c.name).filter((n: string) => n && n !== 'bytes' && n !== 'transpose');
    return names.length ? names.join('+') : 'none';
  } catch { return 'unknown'; }
}

const joinPath = (a: string, b: string) => [a, b].filter(Boolean).join('/').replace(/\/+/g, '/').replace(/^\//, '');
