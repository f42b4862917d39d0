// Serves the viewer's orthogonal planes (3 views: XZ at a row y, YZ at a column x) of one webview. A plane of level
// f is cut from level-f XY slices in the stack's level worker (src/shared/levels/planes.ts), so the first, coarse frame
// of an XZ view of a 2048 x 2048 x 500 stack reads 63 slices at level 8, not 500 at full resolution. A plane at
// another index of the same axis makes an older one stale: it stops at its next slice and is not sent.
// Labels: the plane's labels (full resolution) go before its first image, and again whenever an edit touches the
// plane (a stroke in XY, undo/redo, a plane stroke in the other view). Imports nothing from vscode (unit-tested).

import type { BoxWrite } from '../core/labels/edits';
import { boxTouchesPlane, labelPlane } from '../core/labels/planeEdits';
import type { LabelVolume } from '../core/labels/labelVolume';
import { encodeRle } from '../shared/labels/rle';
import type { LevelReader } from '../core/levels/levels';
import { readPlane, type PlaneAxis } from '../shared/levels/planes';
import type { DType, PixelArray } from '../shared/types';
import type { HostToWebview } from '../shared/protocol';
import { exactBuffer } from './sliceServer';

export interface PlaneSink {
  post(msg: HostToWebview): unknown;
  error(axis: PlaneAxis, index: number, e: unknown): void;
}

export interface PlaneTiming { axis: PlaneAxis; index: number; level: number; ms: number; slices: number; bytes: number }

export class PlaneServer {
  /** The plane each axis shows (its labels are kept in sync); absent: that view is closed. */
  private readonly current = new Map<PlaneAxis, number>();
  /** Reads per axis in this thread (no worker): a newer index makes them stale. */
  private readonly latest = new Map<PlaneAxis, number>();
  /** The last planes served, for tests and benchmarks. */
  readonly timings: PlaneTiming[] = [];
  private disposed = false;

  constructor(
    private readonly levels: LevelReader,
    private readonly dims: { width: number; height: number; depth: number; dtype: DType },
    private readonly labels: () => LabelVolume | undefined,
    private readonly sink: PlaneSink,
  ) {}

  /** Level `level` of plane `index` of `axis` (validated by parseWebviewMessage). */
  async request(axis: PlaneAxis, index: number, level: number, c = 0, t = 0): Promise<void> {
    if (this.disposed) return;
    if (this.current.get(axis) !== index) {
      this.current.set(axis, index);
      this.sendLabels(axis, index);
    }
    this.latest.set(axis, index);
    const t0 = performance.now();
    let plane: { data: PixelArray; width: number; height: number; slices: number } | undefined;
    try {
      plane = this.levels.readPlane
        ? await this.levels.readPlane(axis, index, level, c, t)
        : await readPlane(this.levels, this.dims, axis, index, level, c, t, () => this.latest.get(axis) !== index);
    } catch (e) {
      if (!this.disposed) this.sink.error(axis, index, e);
      return;
    }
    if (!plane || this.disposed || this.current.get(axis) !== index) return;
    const data = exactBuffer(plane.data);
    this.timings.push({ axis, index, level, ms: performance.now() - t0, slices: plane.slices, bytes: data.byteLength });
    if (this.timings.length > 100) this.timings.splice(0, 50);
    this.sink.post({
      type: 'plane', axis, index, level, width: plane.width, height: plane.height, dtype: this.dims.dtype, data, slices: plane.slices,
      ...(c || t ? { c, t } : {}),
    });
  }

  /** 3 views off: nothing is shown, nothing kept in sync. */
  close(): void {
    this.current.clear();
    this.latest.clear();
  }

  /** Planes shown now (tests). */
  shown(): { axis: PlaneAxis; index: number }[] {
    return [...this.current].map(([axis, index]) => ({ axis, index }));
  }

  /**
   * Labels changed: resends the labels of each shown plane that `writes` touch (all of them when `writes` is
   * 'all', a revert or reload). `except`: the plane a webview stroke came from (it already shows it).
   */
  labelsChanged(writes: readonly Pick<BoxWrite, 'z' | 'box'>[] | 'all', except?: { axis: PlaneAxis; index: number }): void {
    for (const [axis, index] of this.current) {
      if (except && except.axis === axis && except.index === index) continue;
      if (writes === 'all' || writes.some((w) => boxTouchesPlane(axis, index, w.box))) this.sendLabels(axis, index);
    }
  }

  private sendLabels(axis: PlaneAxis, index: number): void {
    const volume = this.labels();
    if (!volume) return;
    this.sink.post({ type: 'planeLabels', axis, index, rle: exactBuffer(encodeRle(labelPlane(volume, axis, index))) });
  }

  dispose(): void {
    this.disposed = true;
    this.close();
  }
}
