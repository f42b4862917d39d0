// Messages from the extension host to the stack viewer webview, and the checks the webview makes on the ones it
// acts on without asking (packed binaries). Part of src/shared/protocol (index.ts); no vscode, no DOM.

import type { DType } from '../types';
import type { DisplaySettings, LabelClass } from '../labels/classes';
import type { PlaneAxis } from '../levels/planes';
import { bytesOf, describe, isRecord } from './validate';

export type { PlaneAxis } from '../levels/planes';

/** What the viewer needs to know about the stack (a subset of StackInfo, JSON-safe). */
export interface ViewerStackInfo {
  width: number;
  height: number;
  depth: number;
  dtype: DType;
  /** File name without directory, for the status line. */
  fileName: string;
  /**
   * Channels (C) and time points (T) besides the depth; absent means 1. The viewer asks for one plane (z, c, t)
   * at a time and shows one channel or a composite of all; labels are per z (one label volume for every channel).
   */
  channels?: number;
  frames?: number;
  /** Per-channel display colours ('#rrggbb') from the file (ImageJ LUTs, OME Channel Color); absent: defaults. */
  channelColors?: string[];
}

/**
 * A labels file, ground truth or job mask/uncertainty opened on its own: a read-only LABEL VIEW (values in class
 * colours, no annotation tools) with an action "Show over <stack>" (src/extension/labelView.ts).
 */
export interface LabelViewInit {
  kind: 'labels' | 'truth' | 'mask' | 'uncertainty';
  /** File name of the image stack the values belong to, when found. */
  stack?: string;
  /** Colours by value; values without a class get a palette colour, 0 stays black. Empty: grey (uncertainty). */
  classes: { index: number; name: string; color: string }[];
}

/** Host side of an undo/redo, for the webview's perf probe: epoch ms (performance.timeOrigin + now()). */
export interface HostEditTiming {
  /** VS Code called the edit's undo/redo. */
  startedAt: number;
  /** ms to apply it to the label volume. */
  applyMs: number;
  /** The patch was handed to webview.postMessage. */
  postedAt: number;
}

/** One undo or redo of the document's undo stack: the edit (host-assigned id) and the direction. */
export interface UndoStep {
  id: number;
  direction: 'undo' | 'redo';
}

/** One box write of a prepared undo/redo: values `rle` replacing `from` (both RLE, width*height values). */
export interface PreparedWrite {
  z: number;
  x: number;
  y: number;
  width: number;
  height: number;
  rle: ArrayBuffer;
  from: ArrayBuffer;
}

/** The writes the next undo or redo will make, for the webview to paint on the key press (optimistic undo). */
export interface PreparedStep extends UndoStep {
  writes: PreparedWrite[];
}

export type HostToWebview =
  /** Sent once after the webview said `ready`: the stack opened and the viewer can ask for slices. */
  | { type: 'init'; info: ViewerStackInfo; initialSlice: number; labelView?: LabelViewInit }
  /**
   * One decoded slice. `data` is the typed array's ArrayBuffer (row-major, width*height elements of dtype,
   * platform byte order) so VS Code transfers it as binary rather than as a JSON array of numbers.
   * `level`: 1 = full resolution (exact); f > 1 = block mean over f x f pixels (src/shared/pyramid.ts), then width and
   * height are the level's size, ceil(full / f).
   */
  | { type: 'slice'; z: number; width: number; height: number; dtype: DType; data: ArrayBuffer; level: number; c?: number; t?: number }
  /**
   * Full-resolution pixels of a box of slice z (`width` x `height` at x, y; src/shared/pixelBox.ts), answering
   * `requestPixels`: the exact readout under a resting pointer, without sending a whole slice over the link.
   */
  | { type: 'pixels'; z: number; x: number; y: number; width: number; height: number; dtype: DType; data: ArrayBuffer; c?: number; t?: number }
  /** The stack cannot be shown at all (not a TIFF, RGB, unsupported compression, ...). One clear message. */
  | { type: 'error'; message: string }
  /** Slice z could not be decoded; the rest of the stack may still be fine. */
  | { type: 'sliceError'; z: number; message: string; c?: number; t?: number }
  /**
   * The host dropped a queued request for level `level` of slice z without serving it: the user moved on (a finer
   * level of a slice left behind, a prefetch far away). The webview forgets it asked and asks again if it still needs it.
   */
  | { type: 'sliceSkipped'; z: number; level: number; c?: number; t?: number }
  /** Ask the viewer to show slice z (commands, tests). */
  | { type: 'goToSlice'; z: number }
  // ---- labels (annotation). Label values are uint8 run-length encoded (src/shared/labels/rle.ts) and sent as binary.
  /**
   * All labels of slice z, sent before the image slice the first time the host serves z to this webview (only when
   * z has labels). From then on the webview keeps its copy in sync from its own strokes and `labelPatch`es.
   * `replace`: the answer to `resyncLabels`, which overwrites the webview's copy.
   */
  | { type: 'labels'; z: number; rle: ArrayBuffer; replace?: boolean }
  /**
   * Box values written by undo/redo/class deletion: the webview copies them into its label buffer. `from` (RLE of
   * the values they replace) limits the write to the pixels where the two differ, as on the host.
   */
  | { type: 'labelPatch'; z: number; x: number; y: number; width: number; height: number; rle: ArrayBuffer; from?: ArrayBuffer; timing?: HostEditTiming; step?: UndoStep }
  /**
   * After every change of the undo stack (edit pushed, undo, redo, revert, webview ready): what the next undo and
   * redo will write (absent: unknown, a class change, or too big). `applied`: the undo/redo whose `labelPatch`es were
   * just sent (they come first). The webview paints a prepared step on the key press and checks it against `applied`.
   */
  | { type: 'undoState'; applied?: UndoStep; undo?: PreparedStep; redo?: PreparedStep }
  /** Drop every label buffer (revert); `labels` messages for the annotated slices follow. */
  | { type: 'labelsReset' }
  | { type: 'classes'; classes: LabelClass[]; display: DisplaySettings }
  /** Labeled pixels per class [index, count] and the annotated slices, after every change. */
  | { type: 'labelStats'; counts: [number, number][]; annotated: { z: number; labeled: number }[] }
  /** A segmentation mask slice (uint8 class indices, width*height) to draw under the labels; null data hides it. */
  | { type: 'segmentation'; z: number; data: ArrayBuffer | null; source: string; view?: SegmentationView; canShowUncertainty?: boolean }
  /**
   * Live preview of slice z: class per pixel (uint8, width*height; each value covers factor x factor image pixels:
   * large slices are previewed downsampled) predicted by a forest trained on the labels of that slice. `strokes`: how many `stroke` messages of this webview the training saw (the webview times stroke end
   * -> overlay painted with it). `ms`: worker times (features are 0 when cached for the slice).
   */
  | { type: 'livePreview'; z: number; data: ArrayBuffer; width: number; height: number; factor: number; strokes: number; ms: { features: number; train: number; predict: number; total: number } }
  /** Live preview on/off and one line for the panel (why nothing is shown, or the last timing); hides the overlay when `clear`. */
  | { type: 'livePreviewState'; enabled: boolean; hint: string; clear: boolean }
  /**
   * Another message whose binary `fields` travel packed (lossless, src/shared/levels/codec.ts): over Remote-SSH the
   * link is tens of Mbit/s. The webview unpacks them (webview/levelCodec.ts), in arrival order, then handles
   * `message` as if it had come alone. Only the fields of PACKED_FIELDS may be packed.
   */
  | { type: 'packed'; fields: string[]; message: HostToWebview }
  /**
   * The link to the webview as the host measures it (bytes acknowledged per second, see src/host/linkMeter.ts):
   * `slow` when under the threshold; the viewer then streams coarser first frames and says so in its status bar.
   */
  | { type: 'link'; bytesPerSecond: number; slow: boolean; ratio: number }
  // ---- orthogonal views (3 views: webview/orthoViews.ts, src/host/planeServer.ts, src/shared/levels/planes.ts)
  /**
   * Level `level` of the XZ plane at y = index (x across, z down) or the YZ plane at x = index (z across, y down):
   * `width` x `height` level pixels of dtype, cut from level-`level` XY slices (one slice per `level` in z).
   * `slices`: how many slices the host read for it.
   */
  | { type: 'plane'; axis: PlaneAxis; index: number; level: number; width: number; height: number; dtype: DType; data: ArrayBuffer; slices: number; c?: number; t?: number }
  /** The labels of a plane at full resolution (RLE), before its first image and again whenever they change. */
  | { type: 'planeLabels'; axis: PlaneAxis; index: number; rle: ArrayBuffer };

/** The Segmentation section's view: the job's classes, or (rf) its uncertainty map as a heat overlay. */
export type SegmentationView = 'classes' | 'uncertainty';

/** Binary fields a `packed` message may carry packed, by inner message type. */
export const PACKED_FIELDS = {
  slice: ['data'],
  labels: ['rle'],
  labelPatch: ['rle', 'from'],
  segmentation: ['data'],
  livePreview: ['data'],
} as const satisfies Partial<Record<HostToWebview['type'], readonly string[]>>;

/**
 * Checks a `packed` message before it is unpacked: an object wrapping a known message type whose named fields are
 * packable and binary. Returns a reason when it is not one.
 */
export function packedProblem(raw: unknown): string | undefined {
  if (!isRecord(raw) || raw.type !== 'packed') return 'not a packed message';
  const { fields, message } = raw;
  if (!isRecord(message) || typeof message.type !== 'string') return 'packed message without an inner message';
  const allowed = (PACKED_FIELDS as Record<string, readonly string[]>)[message.type];
  if (!allowed) return `a ${describe(message.type)} message cannot be packed`;
  if (!Array.isArray(fields) || fields.length === 0) return 'packed fields must be a non-empty list';
  for (const f of fields) {
    if (typeof f !== 'string' || !allowed.includes(f)) return `field ${describe(f)} of ${message.type} cannot be packed`;
    if (!bytesOf(message[f])) return `packed field ${f} is not binary`;
  }
  return undefined;
}

