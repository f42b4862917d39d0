// The link to the webview, measured from what the slice server already waits for: a posted slice's promise settles
// when VS Code has handed it to the webview (over Remote-SSH: after it crossed the link). Bytes over time between
// acknowledgements is the throughput; the first message after a quiet spell also waits a round trip, so the
// shortest acknowledgement seen (the latency) is taken off it. Pure (no vscode), unit-tested.

/** Below this (about 24 Mbit/s) the viewer says the link is slow. */
export const SLOW_BYTES_PER_SECOND = 3_000_000;
/** Messages smaller than this tell latency, not throughput. */
export const MIN_SAMPLE_BYTES = 48 * 1024;
/** Weight of a new sample in the running mean. */
const ALPHA = 0.3;

/** `ratio`: raw bytes per byte sent (packing), so the webview can tell what a level costs on the link. */
export interface LinkState { bytesPerSecond: number; slow: boolean; ratio: number }

export class LinkMeter {
  private lastAck = -Infinity;
  private latency = Infinity;
  private rate: number | undefined;
  private ratio: number | undefined;
  private reported: LinkState | undefined;

  /**
   * A message of `bytes` (`rawBytes` before packing) was posted at `postedAt` and acknowledged at `ackedAt` (ms, one
   * clock).
   */
  record(bytes: number, postedAt: number, ackedAt: number, rawBytes = bytes): void {
    if (bytes > 0) this.ratio = this.ratio === undefined ? rawBytes / bytes : (1 - ALPHA) * this.ratio + ALPHA * (rawBytes / bytes);
    const busy = this.lastAck > postedAt; // the link was still carrying earlier messages when this one was posted
    const start = busy ? this.lastAck : postedAt;
    this.lastAck = Math.max(this.lastAck, ackedAt);
    this.latency = Math.min(this.latency, ackedAt - postedAt);
    if (bytes < MIN_SAMPLE_BYTES) return;
    let ms = ackedAt - start;
    if (!busy) ms -= this.latency;
    // An interval mostly made of latency says little about throughput.
    if (!(ms > 0.25 * (ackedAt - start)) || ms <= 0) return;
    const sample = (bytes / ms) * 1000;
    this.rate = this.rate === undefined ? sample : (1 - ALPHA) * this.rate + ALPHA * sample;
  }

  /** The running estimate (undefined until a message big enough to tell was acknowledged). */
  get bytesPerSecond(): number | undefined { return this.rate; }

  /** The state to tell the webview when it changed enough to matter (slow flips, or the rate moves by 25 %). */
  change(): LinkState | undefined {
    if (this.rate === undefined) return undefined;
    const next = { bytesPerSecond: Math.round(this.rate), slow: this.rate < SLOW_BYTES_PER_SECOND, ratio: Math.round((this.ratio ?? 1) * 100) / 100 };
    const last = this.reported;
    if (last && last.slow === next.slow && Math.abs(next.bytesPerSecond - last.bytesPerSecond) < 0.25 * last.bytesPerSecond) return undefined;
    this.reported = next;
    return next;
  }
}
