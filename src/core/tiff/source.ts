// Positioned reads from an open file with a small block cache, so that parsing thousands of IFDs costs one
// disk read per block instead of one per tag. Metadata blocks are read synchronously (an async read costs
// ~50-1000 us of thread-pool latency; 1030 IFDs took 1.2 s that way) but the parser yields to the event loop
// every few milliseconds, so the extension host stays responsive even on a slow network file system.
import { readSync, promises as fsp } from 'node:fs';

const BLOCK = 4 * 1024;
const YIELD_AFTER_MS = 10;
const SYNC_READ_MAX = 256 * 1024;
const MAX_BLOCKS = 16;

export class FileBytes {
  private blocks = new Map<number, Buffer>();
  private lastYield = performance.now();

  private constructor(readonly handle: fsp.FileHandle, readonly size: number) {}

  static async open(path: string): Promise<FileBytes> {
    const handle = await fsp.open(path, 'r');
    try {
      const { size } = await handle.stat();
      return new FileBytes(handle, size);
    } catch (e) {
      await handle.close();
      throw e;
    }
  }

  /** Reads exactly `length` bytes at `position` into `target` (from `targetOffset`); returns bytes actually read (< length at EOF). */
  async readInto(target: Uint8Array, targetOffset: number, length: number, position: number): Promise<number> {
    let done = 0;
    while (done < length) {
      // A single read is capped well below 2 GiB by the OS; loop for short reads.
      const chunk = Math.min(length - done, 1 << 30);
      const { bytesRead } = await this.handle.read(target, targetOffset + done, chunk, position + done);
      if (bytesRead === 0) break;
      done += bytesRead;
    }
    return done;
  }

  /** Lets the event loop run when metadata parsing has held it for a while. */
  async maybeYield(): Promise<void> {
    if (performance.now() - this.lastYield > YIELD_AFTER_MS) {
      await new Promise((resolve) => setImmediate(resolve));
      this.lastYield = performance.now();
    }
  }

  /**
   * Like readInto, but small reads (compressed strips of a few KB) are done synchronously: a thread-pool hop
   * costs more CPU than the read itself, and blocks for at most a fraction of a millisecond from the page cache.
   */
  async readIntoFast(target: Uint8Array, targetOffset: number, length: number, position: number): Promise<number> {
    if (length > SYNC_READ_MAX) return this.readInto(target, targetOffset, length, position);
    return readFullySync(this.handle.fd, target, targetOffset, length, position);
  }

  /** Small metadata reads (IFD entries, tag arrays) through the block cache, synchronous. Returns fewer bytes at EOF. */
  read(position: number, length: number): Buffer {
    const first = Math.floor(position / BLOCK);
    const last = Math.floor((position + length - 1) / BLOCK);
    if (first === last) {
      const block = this.block(first);
      const start = position - first * BLOCK;
      return block.subarray(start, Math.min(start + length, block.length));
    }
    if (length > BLOCK * 4) {
      const buf = Buffer.allocUnsafe(length);
      return buf.subarray(0, readFullySync(this.handle.fd, buf, 0, length, position));
    }
    const parts: Buffer[] = [];
    for (let b = first; b <= last; b++) parts.push(this.block(b));
    const joined = Buffer.concat(parts);
    const start = position - first * BLOCK;
    return joined.subarray(start, Math.min(start + length, joined.length));
  }

  private block(index: number): Buffer {
    const hit = this.blocks.get(index);
    if (hit) return hit;
    const pos = index * BLOCK;
    const len = Math.max(0, Math.min(BLOCK, this.size - pos));
    const buf = Buffer.allocUnsafe(len);
    const block = buf.subarray(0, readFullySync(this.handle.fd, buf, 0, len, pos));
    if (this.blocks.size >= MAX_BLOCKS) this.blocks.delete(this.blocks.keys().next().value as number);
    this.blocks.set(index, block);
    return block;
  }

  /** Drops the metadata cache once opening is done. */
  dropCache(): void { this.blocks.clear(); }

  close(): Promise<void> { return this.handle.close(); }
}

/** Synchronous reads until `length` bytes are in or the file ends (a read may return fewer); returns the bytes read. */
function readFullySync(fd: number, target: Uint8Array, targetOffset: number, length: number, position: number): number {
  let done = 0;
  while (done < length) {
    const got = readSync(fd, target, targetOffset + done, length - done, position + done);
    if (got === 0) break;
    done += got;
  }
  return done;
}
