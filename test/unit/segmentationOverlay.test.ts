// The host side of "Show segmentation": a real mask.tif read slice by slice and posted as `segmentation` messages.

import { mkdtempSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { afterAll, describe, expect, it } from 'vitest';
import { writeStack } from '../../src/core/tiff';
import { SegmentationOverlay } from '../../src/host/segmentationOverlay';
import type { HostToWebview } from '../../src/shared/protocol';

const dir = mkdtempSync(join(tmpdir(), 'stackseg-overlay-'));
afterAll(() => rmSync(dir, { recursive: true, force: true }));

const W = 5, H = 3, D = 4;
const maskPath = join(dir, 'mask.tif');
// Slice z holds (x + z) % 3 so every slice differs.
const sliceOf = (z: number) => Uint8Array.from({ length: W * H }, (_, i) => ((i % W) + z) % 3);

describe('SegmentationOverlay', () => {
  it('posts only the shown slice of the mask, then hides with null data', async () => {
    await writeStack(maskPath, { width: W, height: H, depth: D, dtype: 'uint8', getSlice: sliceOf });
    const posted: HostToWebview[] = [];
    const warnings: string[] = [];
    const o = new SegmentationOverlay(maskPath, 'rf job1', { width: W, height: H, depth: D }, async (m) => { posted.push(m); }, (w) => warnings.push(w));
    await o.show(2);
    await o.show(3);
    await o.show(3); // the viewer reports each resolution level it paints: the mask goes once
    expect(posted.map((m) => m.type === 'segmentation' && m.z)).toEqual([2, 3]);
    const m = posted[0];
    if (m.type !== 'segmentation' || !m.data) throw new Error('no mask data');
    expect([...new Uint8Array(m.data)]).toEqual([...sliceOf(2)]);
    expect(m.source).toBe('rf job1');
    expect(o.lastPosted).toBe(3);
    o.view = 'uncertainty'; // no uncertainty map: the classes are sent again, tagged with the view asked for
    await o.show(3);
    o.forget(); // webview reloaded
    await o.show(3);
    expect(posted.map((m) => m.type === 'segmentation' && m.z)).toEqual([2, 3, 3, 3]);
    o.view = 'classes';
    o.dispose();
    const last = posted.at(-1);
    expect(last?.type === 'segmentation' && last.data).toBe(null);
    await o.show(1); // after dispose nothing more is sent
    expect(posted.length).toBe(5);
    expect(warnings).toEqual([]);
  });

  it('refuses a mask whose size differs from the stack, with a warning', async () => {
    const posted: HostToWebview[] = [];
    const warnings: string[] = [];
    const o = new SegmentationOverlay(maskPath, 'x', { width: W + 1, height: H, depth: D }, async (m) => { posted.push(m); }, (w) => warnings.push(w));
    await o.show(0);
    expect(posted).toEqual([]);
    expect(warnings.join()).toMatch(/not shown/);
    o.dispose(false);
  });
});
