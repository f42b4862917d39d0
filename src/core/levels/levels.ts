// Resolution levels of a stack's slices (src/shared/pyramid.ts) as the viewer's slice server asks for them.
// CachedLevels does the work in the calling thread; WorkerLevels (client.ts) does the same in a worker thread, so
// decoding and block-mean reduction never hold the extension host's event loop. Imports nothing from vscode.

import { downsampleMean, levelSize } from '../../shared/pyramid';
import { levelKey, planeIndex } from '../../shared/levels/levelKey';
import { SliceCache } from '../../shared/lru';
import type { DType, PixelArray, SliceSource } from '../../shared/types';

/** Reduced levels (f > 1) kept per stack; level 1 is the source's own cache. */
export const LEVEL_CACHE_BYTES = 96 * 1024 * 1024;

export interface Level {
  data: PixelArray;
  width: number;
  height: number;
  /** The level packed for the webview (src/shared/levels/codec.ts), when asked with readPacked. */
  packed?: Uint8Array;
}

/** What the slice server reads levels from. */
export interface LevelReader {
  readonly info: { width: number; height: number; dtype: DType; channels?: number; frames?: number };
  /**
   * Level f (1 or a power of two) of slice z of channel c at time point t (both default 0): a fresh array the caller
   * may keep or transfer.
   */
  readLevel(z: number, f: number, c?: number, t?: number): Promise<Level>;
  /** readLevel plus `packed` (the level packed off this thread); absent: the caller sends the raw level. */
  readPacked?(z: number, f: number, c?: number, t?: number): Promise<Level>;
  /** Level f of an XZ/YZ plane cut off this thread (client.ts); absent: planes.ts readPlane over readLevel. */
  readPlane?(axis: 'xz' | 'yz', index: number, f: number, c?: number, t?: number): Promise<{ data: PixelArray; width: number; height: number; slices: number } | undefined>;
  /** Frees what the reader holds (terminates its worker); the source it reads from stays open. */
  close(): Promise<void>;
}

/** Levels computed in this thread from a source, reduced levels kept in a byte-bounded cache. */
export class CachedLevels implements LevelReader {
  private readonly levels: SliceCache;

  constructor(private readonly source: SliceSource, cacheBytes = LEVEL_CACHE_BYTES) {
    this.levels = new SliceCache(cacheBytes);
  }

  get info(): SliceSource['info'] { return this.source.info; }

  async readLevel(z: number, f: number, c = 0, t = 0): Promise<Level> {
    const { width, height, dtype } = this.source.info;
    if (f === 1) return { data: await this.source.readSlice(z, c, t), width, height };
    const key = levelKey(z, f, planeIndex(c, t, this.source.info.channels));
    const hit = this.levels.get(key);
    if (hit) return { data: hit.slice(), ...levelSize(width, height, f) };
    // A level the file stores (OME-Zarr multiscales) is read, not computed.
    const stored = await this.source.readStoredLevel?.(z, f, c, t);
    if (stored) {
      this.levels.set(key, stored);
      return { data: stored.slice(), ...levelSize(width, height, f) };
    }
    const full = await (this.source.readSliceShared ? this.source.readSliceShared(z, c, t) : this.source.readSlice(z, c, t));
    const reduced = downsampleMean(full, width, height, dtype, f);
    this.levels.set(key, reduced.data);
    return { ...reduced, data: reduced.data.slice() };
  }

  async close(): Promise<void> { this.levels.clear(); }
}
