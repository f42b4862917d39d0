// `--set channel=all` / `channel=0,2`: parsing, the arguments handed to workers, the Model panel's "All channels".
import { describe, expect, it } from 'vitest';
import { parseChannelChoice, planeArgs, selectPlane, takePlaneSelection } from '../../src/core/jobs/plane';
import { parseModelPanelMessage } from '../../src/shared/modelPanelProtocol';
import type { PixelArray, SliceSource, StackInfo } from '../../src/shared/types';

/** A 2x1 stack of C channels whose pixels are 10 * c + z. */
function stack(channels: number): SliceSource {
  const info = { path: '/data/x.tif', width: 2, height: 1, depth: 3, dtype: 'uint16', channels } as StackInfo;
  return { info, readSlice: async (z, c = 0) => Uint16Array.of(10 * c + z, 10 * c + z) as PixelArray, close: async () => undefined };
}

describe('channel choice', () => {
  it('parses N, all and lists; refuses the rest with a usage message', () => {
    expect(parseChannelChoice('1')).toBe(1);
    expect(parseChannelChoice(' all ')).toBe('all');
    expect(parseChannelChoice('0,2')).toEqual([0, 2]);
    expect(() => parseChannelChoice('2,')).toThrow(/not a channel number/);
    expect(() => parseChannelChoice('x')).toThrow(/not a channel number, a list or "all"/);
    expect(() => parseChannelChoice('1,1')).toThrow(/listed twice/);
    const sets = new Map([['channel', 'all'], ['trees', '3']]);
    expect(takePlaneSelection(sets)).toEqual({ channel: 'all' });
    expect([...sets.keys()]).toEqual(['trees']);
    expect(planeArgs({ channel: [0, 2], timepoint: 1 })).toEqual(['--set', 'channel=0,2', '--set', 'timepoint=1']);
    expect(planeArgs({ channel: 'all' })).toEqual(['--set', 'channel=all']);
  });

  it('reads the chosen channels of each slice one after the other; refuses a missing one', async () => {
    const all = selectPlane(stack(3), { channel: 'all' });
    expect(Array.from(await all.readSlice(1))).toEqual([1, 1, 11, 11, 21, 21]);
    expect(all.info.notes).toContain('channels 0, 1, 2 of 3 read together (--set channel=all)');
    const two = selectPlane(stack(3), { channel: [2, 0] });
    expect(Array.from(await two.readSlice(0))).toEqual([20, 20, 0, 0]);
    expect(() => selectPlane(stack(2), { channel: [0, 2] })).toThrow(/channel=2: the image has 2 channels/);
    expect(() => selectPlane(stack(2), {})).toThrow(/--set channel=all/);
    expect(selectPlane(stack(1), { channel: 'all' }).info.channels).toBe(1); // one channel: that channel
  });

  it('the Model panel may ask for all channels', () => {
    const start = { type: 'start', kind: 'train', model: 'rf', params: {} };
    expect(parseModelPanelMessage({ ...start, channel: 'all' })).toMatchObject({ ok: true, message: { channel: 'all' } });
    expect(parseModelPanelMessage({ ...start, channel: 'some' })).toMatchObject({ ok: false });
  });
});
