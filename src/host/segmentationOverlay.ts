// A job's mask shown over a stack viewer: reads only the slice the viewer shows from mask.tif (the project's TIFF
// reader, a few slices cached) and posts it as a `segmentation` message. Nothing is written anywhere.

import { openStack, type TiffStack } from '../core/tiff';
import type { HostToWebview, SegmentationView } from '../shared/protocol';
import { packBytes } from './packedPost';

/** Slices of the mask kept decoded (the viewer steps back and forth). */
const CACHED_SLICES = 4;

export class SegmentationOverlay {
  private stack: Promise<TiffStack>;
  private heat?: Promise<TiffStack>;
  private disposed = false;
  /** What show() sends: the mask's classes or (when the job wrote one) its uncertainty map. */
  view: SegmentationView = 'classes';
  /** Last slice posted to the webview (for tests and the API). */
  lastPosted?: number;
  /** View and slice the webview holds: the viewer reports each resolution level it paints, the mask is sent once. */
  private held: string | undefined;

  constructor(readonly maskPath: string, readonly source: string, private readonly expected: { width: number; height: number; depth: number },
    private readonly post: (m: HostToWebview) => Thenable<unknown>, private readonly warn: (m: string) => void,
    readonly uncertaintyPath?: string) {
    this.stack = openStack(maskPath, { cacheBytes: CACHED_SLICES * expected.width * expected.height });
    this.stack.then((s) => {
      const i = s.info;
      if (!this.fits(s)) warn(`${maskPath} is ${i.width}x${i.height}x${i.depth} ${i.dtype}, the stack is ${expected.width}x${expected.height}x${expected.depth}: not shown`);
    }, (e) => warn(`Cannot read ${maskPath}: ${(e as Error).message}`));
  }

  /** Sends the mask of slice z (the viewer just showed z), unless the webview already holds it. */
  async show(z: number): Promise<void> {
    const view = this.view;
    const key = `${view} ${z}`;
    if (this.disposed || this.held === key) return;
    this.held = key;
    try {
      if (view === 'uncertainty' && this.uncertaintyPath) this.heat ??= openStack(this.uncertaintyPath, { cacheBytes: CACHED_SLICES * this.expected.width * this.expected.height });
      const s = await (view === 'uncertainty' && this.heat ? this.heat : this.stack);
      if (!this.fits(s)) return;
      const slice = await s.readSlice(z);
      if (this.disposed || this.held !== key) return;
      // Copy: the reader's cached array must not be transferred away.
      const data = slice.slice().buffer as ArrayBuffer;
      // Packed (deflate on the thread pool): a mask of a few classes shrinks tens of times for the link.
      await this.post(await packBytes({ type: 'segmentation', z, data, source: this.source, view, canShowUncertainty: !!this.uncertaintyPath }, ['data']));
      this.lastPosted = z;
    } catch (e) {
      this.held = undefined;
      this.warn(`Cannot read slice ${z} of ${this.maskPath}: ${(e as Error).message}`);
    }
  }

  /** The webview was reloaded and holds no mask: the next show() sends again. */
  forget(): void {
    this.held = undefined;
  }

  /** A uint8 stack of the viewer's size (mask and uncertainty map alike). */
  private fits(s: TiffStack): boolean {
    const i = s.info;
    return i.width === this.expected.width && i.height === this.expected.height && i.depth === this.expected.depth && i.dtype === 'uint8';
  }

  /** Hides the overlay in the webview and closes the mask file. */
  dispose(hide = true): void {
    if (this.disposed) return;
    this.disposed = true;
    if (hide) void this.post({ type: 'segmentation', z: 0, data: null, source: this.source });
    void this.stack.then((s) => s.close(), () => undefined);
    void this.heat?.then((s) => s.close(), () => undefined);
  }
}
