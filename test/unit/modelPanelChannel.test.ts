// The Model panel's start message carries the channel / time point a job reads on a multi-channel stack.
import { describe, expect, it } from 'vitest';
import { parseModelPanelMessage } from '../../src/shared/modelPanelProtocol';

const start = { type: 'start', kind: 'train', model: 'kmeans', params: {} };

describe('Model panel start: channel and time point', () => {
  it('passes a whole channel and time point through, and leaves them out when absent', () => {
    expect(parseModelPanelMessage({ ...start, channel: 1, timepoint: 2 })).toEqual({ ok: true, message: { ...start, modelFrom: undefined, channel: 1, timepoint: 2 } });
    const plain = parseModelPanelMessage(start);
    expect(plain.ok && 'channel' in plain.message).toBe(false);
  });

  it('refuses anything but a whole number 0..65535', () => {
    for (const channel of [-1, 1.5, '1', null, 65536, NaN]) {
      expect(parseModelPanelMessage({ ...start, channel })).toEqual({ ok: false, reason: 'channel must be a whole number 0..65535' });
    }
    expect(parseModelPanelMessage({ ...start, timepoint: 'x' })).toEqual({ ok: false, reason: 'timepoint must be a whole number 0..65535' });
    expect(parseModelPanelMessage({ ...start, plane: 1 })).toEqual({ ok: false, reason: 'extra keys' });
  });
});
