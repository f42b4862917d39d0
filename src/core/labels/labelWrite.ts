// Writes a labels volume as a uint8 multi-page TIFF whose size follows the labels, not the stack:
//  - every page is deflate-compressed (Compression 8, one strip per page), with the ImageJ description on page 0;
//  - pages without labels all point at one shared deflated all-zero strip (TIFF lets directories share strips;
//    tifffile, Fiji and StackSeg's reader seek to each page's offset);
//  - pages unchanged since the backing file was read or saved are copied as compressed bytes, not re-encoded;
//  - each page carries its label counts (COUNTS_TAG), so the next open decodes nothing.
// A save after one stroke on 2048 x 2048 x 1000 writes the directories (~190 KB), the zero strip and the labelled
// pages' compressed bytes, instead of 4 GB. Returns the index of what it wrote, so the volume can be backed by it.

import { promises as fsp } from 'node:fs';
import { promisify } from 'node:util';
import { deflate, deflateSync } from 'node:zlib';
import { imagejDescription } from '../tiff/writer';
import { COUNTS_TAG, countPairs, type ClassPairs, type PageIndex } from './labelPages';
import type { LabelVolume } from './labelVolume';

const deflateAsync = promisify(deflate);
const CLASSIC_LIMIT = 2 ** 32 - 1;
/**
 * zlib level 1: on a 2048 x 2048 labels slice it takes 2 ms where level 6 takes 56 ms, for 18 KB instead of 4 KB
 * (measured here); a save after each stroke wants the speed.
 */
export const DEFLATE_LEVEL = 1;

class Overflow extends Error {}

/** The deflated all-zero page of one size (kept: every save needs it). */
const zeroStrips = new Map<number, Buffer>();
function zeroStrip(pixels: number): Buffer {
  let z = zeroStrips.get(pixels);
  if (!z) {
    z = deflateSync(new Uint8Array(pixels), { level: 9 });
    if (zeroStrips.size > 8) zeroStrips.clear();
    zeroStrips.set(pixels, z);
  }
  return z;
}

/** Bytes handed to the file since the last call (tests and benchmarks measure saves by it). */
export const writeStats = { bytes: 0, encoded: 0, copied: 0, zero: 0 };

/** Writes `volume` to `path` (a temporary name; the caller renames it). */
export async function writeLabelsTiff(path: string, volume: LabelVolume, opts: { bigTiff?: boolean } = {}): Promise<PageIndex> {
  try {
    return await writeOnce(path, volume, opts.bigTiff ?? false);
  } catch (e) {
    if (!(e instanceof Overflow)) throw e;
    return writeOnce(path, volume, true); // over 4 GB even compressed (noise-like labels): BigTIFF
  }
}

async function writeOnce(path: string, volume: LabelVolume, big: boolean): Promise<PageIndex> {
  const { width, height, depth } = volume;
  const handle = await fsp.open(path, 'w');
  try {
    const out = new Sequential(handle);
    const header = Buffer.alloc(big ? 16 : 8);
    header.write('II', 0, 'latin1');
    if (big) { header.writeUInt16LE(43, 2); header.writeUInt16LE(8, 4); } else header.writeUInt16LE(42, 2);
    out.push(header); // its first-directory offset is filled in below, before the first flush
    const zero = zeroStrip(width * height);
    const zeroAt = out.pos;
    out.push(zero);
    out.align();
    const firstIfd = out.pos;
    if (big) header.writeBigUInt64LE(BigInt(firstIfd), 8); else header.writeUInt32LE(firstIfd, 4);
    const description = Buffer.from(imagejDescription({ width, height, depth, dtype: 'uint8' }, {}) + '\0', 'latin1');

    const index: PageIndex = {
      width, height, depth, compression: new Uint16Array(depth).fill(8), rowsPerStrip: new Uint32Array(depth).fill(height),
      stripStart: Uint32Array.from({ length: depth + 1 }, (_, z) => z), stripOffsets: new Float64Array(depth),
      stripBytes: new Float64Array(depth), labeled: new Float64Array(depth), pairs: new Array(depth),
    };
    const stale = volume.backing?.stale() ?? false;
    for (let z = 0; z < depth; z++) {
      const st = volume.pageState(z, stale);
      let strip: Buffer | undefined;
      let labeled = 0;
      let pairs: ClassPairs = new Uint32Array(0);
      if (st.kind === 'file') {
        ({ labeled, pairs } = st);
        if (st.pages.copyable(z)) { strip = st.pages.readRaw(z); writeStats.copied++; } else {
          strip = await deflateAsync(await st.pages.readPageAsync(z), { level: DEFLATE_LEVEL });
          writeStats.encoded++;
        }
      } else if (st.kind === 'memory') {
        ({ labeled, pairs } = countPairs(st.data));
        if (labeled > 0) { strip = await deflateAsync(st.data, { level: DEFLATE_LEVEL }); writeStats.encoded++; }
      }
      if (!strip) writeStats.zero++;
      const counts = Uint32Array.from([1, strip ? strip.length : zero.length, labeled, ...pairs]);
      const entries = ifdEntries(width, height, z === 0 ? description.length : 0, counts.length, big);
      const ifdAt = out.pos;
      const ifdBytes = (big ? 8 : 2) + entries.length * (big ? 20 : 12) + (big ? 8 : 4);
      const countsAt = ifdAt + ifdBytes;
      const descAt = countsAt + counts.byteLength;
      const stripAt = strip ? align8(descAt + (z === 0 ? description.length : 0)) : zeroAt;
      const end = strip ? stripAt + strip.length : descAt + (z === 0 ? description.length : 0);
      const nextIfd = z + 1 < depth ? align8(end) : 0;
      const stripBytes = strip ? strip.length : zero.length;
      if (!big && nextIfd > CLASSIC_LIMIT) throw new Overflow();
      const values: Record<number, number> = { 270: descAt, 273: stripAt, 279: stripBytes, [COUNTS_TAG]: countsAt };
      out.push(encodeIfd(entries, values, nextIfd, big));
      out.push(Buffer.from(counts.buffer, counts.byteOffset, counts.byteLength));
      if (z === 0) out.push(description);
      if (strip) { out.align(); out.push(strip); }
      out.align();
      if (out.pending > 1 << 20) await out.flush();
      index.stripOffsets[z] = stripAt;
      index.stripBytes[z] = stripBytes;
      index.labeled[z] = labeled;
      index.pairs[z] = pairs;
    }
    await out.flush();
    await handle.close();
    return index;
  } catch (e) {
    await handle.close().catch(() => undefined);
    throw e;
  }
}

type Entry = [tag: number, type: number, count: number, value?: number];

/** Directory entries in tag order; entries without a value get theirs from encodeIfd's `values` (offsets). */
function ifdEntries(width: number, height: number, descLength: number, countsLength: number, big: boolean): Entry[] {
  const off = big ? 16 : 4;
  const e: Entry[] = [[254, 4, 1, 0], [256, 4, 1, width], [257, 4, 1, height], [258, 3, 1, 8], [259, 3, 1, 8], [262, 3, 1, 1]];
  if (descLength > 0) e.push([270, 2, descLength]);
  e.push([273, off, 1], [277, 3, 1, 1], [278, 4, 1, height], [279, off, 1], [284, 3, 1, 1], [339, 3, 1, 1], [COUNTS_TAG, 4, countsLength]);
  return e;
}

function encodeIfd(entries: Entry[], values: Record<number, number>, next: number, big: boolean): Buffer {
  const size = big ? 20 : 12;
  const buf = Buffer.alloc((big ? 8 : 2) + entries.length * size + (big ? 8 : 4));
  let o = 0;
  if (big) { buf.writeBigUInt64LE(BigInt(entries.length), 0); o = 8; } else { buf.writeUInt16LE(entries.length, 0); o = 2; }
  for (const [tag, type, count, v] of entries) {
    const value = v ?? values[tag];
    buf.writeUInt16LE(tag, o);
    buf.writeUInt16LE(type, o + 2);
    if (big) buf.writeBigUInt64LE(BigInt(count), o + 4); else buf.writeUInt32LE(count, o + 4);
    const at = o + (big ? 12 : 8);
    if (type === 3) buf.writeUInt16LE(value, at);
    else if (big && (type === 16 || tag === 270 || tag === COUNTS_TAG)) buf.writeBigUInt64LE(BigInt(value), at);
    else buf.writeUInt32LE(value, at);
    o += size;
  }
  if (big) buf.writeBigUInt64LE(BigInt(next), o); else buf.writeUInt32LE(next, o);
  return buf;
}

function align8(n: number): number { return Math.ceil(n / 8) * 8; }

/** Appends buffers at increasing positions, in writes of about 1 MB. */
class Sequential {
  pos = 0;
  private written = 0;
  pending = 0;
  private chunks: Buffer[] = [];
  constructor(private readonly handle: fsp.FileHandle) {}

  push(b: Buffer): void {
    this.chunks.push(b);
    this.pos += b.length;
    this.pending += b.length;
  }

  align(): void {
    const pad = align8(this.pos) - this.pos;
    if (pad > 0) this.push(Buffer.alloc(pad));
  }

  async flush(): Promise<void> {
    if (this.pending > 0) {
      const all = Buffer.concat(this.chunks);
      await writeAll(this.handle, all, this.written);
      writeStats.bytes += all.length;
      this.written += all.length;
      this.chunks = [];
      this.pending = 0;
    }
  }
}

async function writeAll(handle: fsp.FileHandle, buf: Buffer, position: number): Promise<void> {
  for (let done = 0; done < buf.length;) {
    const { bytesWritten } = await handle.write(buf, done, buf.length - done, position + done);
    done += bytesWritten;
  }
}
