// What activate() returns: a small API for tests running inside the extension host
// (vscode.extensions.getExtension('stackseg.stackseg').exports).

export interface StackSegApi {
  /** URIs (as strings) of stacks open in a StackSeg viewer. */
  openEditors(): string[];
  /** 0-based slice last painted by the viewer of `uri`, or undefined before the first paint. */
  lastSliceShown(uri: string): number | undefined;
  /** Channel and time point the viewer of `uri` shows (channel 0 in its composite); undefined when none is open. */
  shownPlane(uri: string): { c: number; t: number } | undefined;
  /** The message the viewer of `uri` shows because the file cannot be read, if any. */
  errorShown(uri: string): string | undefined;
  /** Asks the viewer of `uri` to show slice z (0-based); false when no viewer of it is open. */
  showSlice(uri: string, z: number): boolean;
  /** Host-side times of the last slices served to the viewer of `uri` (decode, and until postMessage resolved). */
  sliceTimings(uri: string): { z: number; readMs: number; postMs: number; bytes: number }[];
  /** Resolves when the viewer of `uri` has painted slice z (now or later); rejects after `timeoutMs`. */
  waitForSlice(uri: string, z: number, timeoutMs?: number): Promise<void>;
  /** Labels of the stack open in `uri`: classes, labeled-pixel counts, annotated slices, timings (ms). */
  labelState(uri: string): LabelState | undefined;
  /** The job mask shown over the viewer of `uri` (stackseg.showSegmentation): file, job, last slice sent. */
  segmentationState(uri: string): { maskPath: string; source: string; lastSlice?: number; view: string } | undefined;
}

export interface LabelState {
  classes: { index: number; name: string; color: string }[];
  counts: [number, number][];
  annotated: { z: number; labeled: number }[];
  /** Host-side ms of the last save (labels + settings written) and of the last undo/redo applied. */
  lastSaveMs: number;
  lastUndoMs: number;
  /** Why the labels file beside the image was not loaded, if it was not. */
  conflict?: string;
  warnings: string[];
}
