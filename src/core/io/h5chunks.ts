// Direct reads of HDF5 chunked datasets: the chunk index is parsed here (superblock, object header, layout
// message, then a version-1 B-tree, a fixed array or a single chunk), the chunk bytes are read with async fs and
// inflated by Node's native zlib in the libuv threadpool, and shuffle is undone in JavaScript. h5wasm's path
// (HDF5's own zlib compiled to WebAssembly, synchronous on the calling thread) is slower and blocks that thread.
// Anything outside the common layouts returns undefined from openChunkIndex, and hdf5.ts keeps using h5wasm.

import type { FileHandle } from 'node:fs/promises';
import { promisify } from 'node:util';
import * as zlib from 'node:zlib';

const inflate = promisify(zlib.inflate);

/** Where one chunk lies: its first element (z, y, x), file address and stored size; filterMask bit i skips filter i. */
export interface ChunkRef { offset: number[]; address: number; size: number; filterMask: number }

export interface ChunkIndex {
  chunks: number[];
  /** The chunks whose z range meets [z0, z1), or undefined when some are not allocated (fill value: use h5wasm). */
  lookup(z0: number, z1: number): Promise<ChunkRef[] | undefined>;
}

class Reader {
  constructor(readonly fh: FileHandle, readonly base: number, readonly so: number, readonly sl: number) {}
  async bytes(addr: number, n: number): Promise<Buffer> {
    const b = Buffer.alloc(n);
    const { bytesRead } = await this.fh.read(b, 0, n, this.base + addr);
    return bytesRead === n ? b : b.subarray(0, bytesRead);
  }
}

/** Little-endian unsigned integer of n bytes (n <= 8, values below 2^53). */
function uint(b: Buffer, at: number, n: number): number {
  if (n === 8) {
    const hi = b.readUInt32LE(at + 4);
    return hi === 0xffffffff && b.readUInt32LE(at) === 0xffffffff ? Infinity : hi * 2 ** 32 + b.readUInt32LE(at);
  }
  let v = 0;
  for (let i = n - 1; i >= 0; i--) v = v * 256 + b[at + i];
  return n > 0 && v === 2 ** (8 * n) - 1 ? Infinity : v;
}

const SIGNATURE = Buffer.from([0x89, 0x48, 0x44, 0x46, 0x0d, 0x0a, 0x1a, 0x0a]);

async function openReader(fh: FileHandle): Promise<Reader | undefined> {
  for (let at = 0; at < 2 ** 24; at = at === 0 ? 512 : at * 2) {
    const b = Buffer.alloc(40);
    const { bytesRead } = await fh.read(b, 0, 40, at);
    if (bytesRead < 40) return undefined;
    if (!b.subarray(0, 8).equals(SIGNATURE)) continue;
    const v = b[8];
    if (v === 0 || v === 1) {
      const so = b[13], sl = b[14];
      return new Reader(fh, uint(b, v === 0 ? 24 : 28, so), so, sl);
    }
    if (v === 2 || v === 3) return new Reader(fh, uint(b, 12, b[9]), b[9], b[10]);
    return undefined;
  }
  return undefined;
}

/** The data layout message (type 8) of the object header at addr, following continuation blocks. */
async function layoutMessage(r: Reader, addr: number): Promise<Buffer | undefined> {
  const head = await r.bytes(addr, 16);
  const blocks: { at: number; len: number; v2: boolean }[] = [];
  let v2 = false, flags = 0;
  if (head.subarray(0, 4).toString('latin1') === 'OHDR') {
    v2 = true;
    flags = head[5];
    let p = 6 + (flags & 0x20 ? 16 : 0) + (flags & 0x10 ? 4 : 0);
    const sizeBytes = 1 << (flags & 3);
    const h = await r.bytes(addr, p + sizeBytes);
    const len = uint(h, p, sizeBytes);
    p += sizeBytes;
    blocks.push({ at: addr + p, len, v2 });
  } else if (head[0] === 1) {
    blocks.push({ at: addr + 16, len: head.readUInt32LE(8), v2 });
  } else return undefined;
  for (let k = 0; k < blocks.length && k < 64; k++) {
    const blk = blocks[k];
    const b = await r.bytes(blk.at, blk.len);
    // v2: chunk 0's size leaves out its checksum; a continuation block ('OCHK') counts its signature and checksum.
    const cont = v2 && k > 0;
    let p = cont ? 4 : 0;
    const end = cont ? b.length - 4 : b.length;
    const hdr = v2 ? 4 + (flags & 0x04 ? 2 : 0) : 8;
    while (p + hdr <= end) {
      const type = v2 ? b[p] : b.readUInt16LE(p);
      const size = v2 ? b.readUInt16LE(p + 1) : b.readUInt16LE(p + 2);
      const data = b.subarray(p + hdr, p + hdr + size);
      if (type === 8) return data;
      if (type === 0x10) blocks.push({ at: uint(data, 0, r.so), len: uint(data, r.so, r.sl), v2 });
      p += hdr + size;
    }
  }
  return undefined;
}

/**
 * The chunk index of the dataset whose object header is at addr, for shape (3D) with the given element size; or
 * undefined when the layout is not one read here.
 */
export async function openChunkIndex(fh: FileHandle, addr: number, shape: number[], elemSize: number): Promise<ChunkIndex | undefined> {
  const r = await openReader(fh);
  if (!r) return undefined;
  const m = await layoutMessage(r, addr);
  if (!m || m[1] !== 2) return undefined; // chunked only
  const version = m[0];
  if (version === 3) {
    const nd = m[2];
    if (nd !== shape.length + 1) return undefined;
    const btree = uint(m, 3, r.so);
    const chunks = Array.from({ length: nd - 1 }, (_, i) => m.readUInt32LE(3 + r.so + 4 * i));
    if (m.readUInt32LE(3 + r.so + 4 * (nd - 1)) !== elemSize) return undefined;
    return btreeIndex(r, btree, chunks, shape);
  }
  if (version === 4) {
    const flags = m[2], nd = m[3], enc = m[4];
    if (nd !== shape.length + 1) return undefined;
    const chunks = Array.from({ length: nd - 1 }, (_, i) => uint(m, 5 + enc * i, enc));
    let p = 5 + enc * nd;
    const type = m[p++];
    if (type === 1) { // single chunk
      const filtered = (flags & 2) !== 0;
      const size = filtered ? uint(m, p, r.sl) : chunks.reduce((a, c) => a * c, elemSize);
      const mask = filtered ? m.readUInt32LE(p + r.sl) : 0;
      p += filtered ? r.sl + 4 : 0;
      const address = uint(m, p, r.so);
      return { chunks, lookup: async () => (Number.isFinite(address) ? [{ offset: chunks.map(() => 0), address, size, filterMask: mask }] : undefined) };
    }
    if (type === 3) return fixedArrayIndex(r, uint(m, p + 1, r.so), chunks, shape, elemSize);
  }
  return undefined;
}

const gridOf = (shape: number[], chunks: number[]) => shape.map((s, i) => Math.ceil(s / chunks[i]));

function btreeIndex(r: Reader, root: number, chunks: number[], shape: number[]): ChunkIndex {
  const nd = chunks.length + 1;
  const keyBytes = 8 + 8 * nd;
  const nodes = new Map<number, Promise<{ level: number; keys: { size: number; mask: number; offset: number[] }[]; children: number[] }>>();
  const node = (addr: number) => {
    let n = nodes.get(addr);
    if (!n) {
      n = (async () => {
        const head = await r.bytes(addr, 8 + 2 * r.so);
        if (head.subarray(0, 4).toString('latin1') !== 'TREE' || head[4] !== 1) throw new Error('not a chunk B-tree node');
        const level = head[5], used = head.readUInt16LE(6);
        const b = await r.bytes(addr + 8 + 2 * r.so, used * (keyBytes + r.so) + keyBytes);
        const keys = [], children = [];
        for (let i = 0, p = 0; i <= used; i++) {
          keys.push({ size: b.readUInt32LE(p), mask: b.readUInt32LE(p + 4), offset: Array.from({ length: nd - 1 }, (_, d) => uint(b, p + 8 + 8 * d, 8)) });
          p += keyBytes;
          if (i < used) { children.push(uint(b, p, r.so)); p += r.so; }
        }
        return { level, keys, children };
      })();
      nodes.set(addr, n);
      if (nodes.size > 4096) nodes.delete(nodes.keys().next().value!);
    }
    return n;
  };
  return {
    chunks,
    async lookup(z0, z1) {
      const out: ChunkRef[] = [];
      const walk = async (addr: number): Promise<void> => {
        const n = await node(addr);
        const pending: Promise<void>[] = [];
        for (let i = 0; i < n.children.length; i++) {
          const lo = n.keys[i].offset[0];
          // Keys are sorted; child i holds chunks from key i up to (not past) key i+1.
          if (lo >= z1) break;
          if (n.level === 0) {
            if (lo + chunks[0] > z0) out.push({ offset: n.keys[i].offset, address: n.children[i], size: n.keys[i].size, filterMask: n.keys[i].mask });
          } else if (i + 1 >= n.keys.length || n.keys[i + 1].offset[0] + chunks[0] > z0) pending.push(walk(n.children[i]));
        }
        await Promise.all(pending);
      };
      if (Number.isFinite(root)) await walk(root);
      return complete(out, z0, z1, chunks, shape);
    },
  };
}

/** Every chunk of the z range present once (else some were never written: fill values, left to h5wasm). */
function complete(refs: ChunkRef[], z0: number, z1: number, chunks: number[], shape: number[]): ChunkRef[] | undefined {
  const g = gridOf(shape, chunks);
  const rows = Math.ceil(z1 / chunks[0]) - Math.floor(z0 / chunks[0]);
  return refs.length === rows * g[1] * g[2] ? refs : undefined;
}

/** Fixed array index (layout v4, h5py with libver='latest'): a header, then one data block of chunk entries. */
async function fixedArrayIndex(r: Reader, addr: number, chunks: number[], shape: number[], elemSize: number): Promise<ChunkIndex | undefined> {
  if (!Number.isFinite(addr)) return undefined;
  const h = await r.bytes(addr, 12 + r.sl + r.so + 4);
  if (h.subarray(0, 4).toString('latin1') !== 'FAHD') return undefined;
  const filtered = h[5] === 1; // client ID: 0 plain chunk addresses, 1 filtered chunks (address, size, mask)
  const entrySize = h[6], pageBits = h[7];
  const count = uint(h, 8, r.sl);
  const dblk = uint(h, 8 + r.sl, r.so);
  const g = gridOf(shape, chunks);
  if (count !== g[0] * g[1] * g[2] || count > 2 ** pageBits || !Number.isFinite(dblk)) return undefined; // paged blocks: not here
  const prefix = 4 + 1 + 1 + r.so;
  const b = await r.bytes(dblk, prefix + count * entrySize);
  if (b.subarray(0, 4).toString('latin1') !== 'FADB') return undefined;
  const full = chunks.reduce((a, c) => a * c, elemSize);
  const refs: (ChunkRef | undefined)[] = [];
  for (let i = 0; i < count; i++) {
    const p = prefix + i * entrySize;
    const address = uint(b, p, r.so);
    if (!Number.isFinite(address)) { refs.push(undefined); continue; }
    const cz = Math.floor(i / (g[1] * g[2])), cy = Math.floor(i / g[2]) % g[1], cx = i % g[2];
    const size = filtered ? uint(b, p + r.so, entrySize - r.so - 4) : full;
    const filterMask = filtered ? b.readUInt32LE(p + entrySize - 4) : 0;
    refs.push({ offset: [cz * chunks[0], cy * chunks[1], cx * chunks[2]], address, size, filterMask });
  }
  const perRow = g[1] * g[2];
  return {
    chunks,
    async lookup(z0, z1) {
      const out: ChunkRef[] = [];
      for (let c = Math.floor(z0 / chunks[0]); c * chunks[0] < z1; c++) {
        for (let k = 0; k < perRow; k++) {
          const ref = refs[c * perRow + k];
          if (!ref) return undefined;
          out.push(ref);
        }
      }
      return out;
    },
  };
}

export interface Filter { id: number; cd_values: number[] }
export const FAST_FILTERS = new Set([1, 2]); // deflate, shuffle

/** Undoes the filter pipeline (applied in list order on write) on one chunk's stored bytes. */
export async function decodeChunk(stored: Buffer, filters: Filter[], mask: number, elemSize: number, expected = 0): Promise<Uint8Array> {
  let b: Uint8Array = stored;
  for (let i = filters.length - 1; i >= 0; i--) {
    if (mask & (1 << i)) continue;
    const f = filters[i];
    if (f.id === 1) {
      // Output in one piece the size of the chunk: zlib's default 16 KB pieces cost a JS callback each.
      const out = await inflate(b, expected > 0 ? { chunkSize: expected + 1024 } : {});
      b = new Uint8Array(out.buffer, out.byteOffset, out.byteLength);
    } else if (f.id === 2) b = unshuffle(b, f.cd_values[0] || elemSize);
    else throw new Error(`filter ${f.id} is not decoded here`);
  }
  return b;
}

function unshuffle(src: Uint8Array, size: number): Uint8Array {
  if (size <= 1) return src;
  const n = Math.floor(src.length / size);
  const out = new Uint8Array(src.length);
  if (size === 2) {
    const o16 = new Uint16Array(out.buffer, 0, n);
    for (let i = 0; i < n; i++) o16[i] = src[i] | (src[n + i] << 8);
  } else {
    for (let k = 0; k < size; k++) {
      const s = k * n;
      for (let i = 0; i < n; i++) out[i * size + k] = src[s + i];
    }
  }
  out.set(src.subarray(n * size), n * size); // bytes past the last whole element are not shuffled
  return out;
}
