// Messages between the host and the Model panel webview (the StackSeg sidebar: model, parameters, Train/Segment).
// Both sides import this file; the host validates every message from the webview with parseModelPanelMessage,
// built like the viewer's parseWebviewMessage from src/shared/protocol/validate.ts.

import type { JobKind } from './jobs/spec';
import { MODEL_KINDS, type ModelKind } from './models/registry';
import { fail, isIntIn, isOneOf, isRecord, openEnvelope, type Parsed } from './protocol/validate';

export interface PanelJob { dir: string; label: string; percent?: number; message?: string; /** trained on another stack */ otherStack?: string }

export type HostToModelPanel = {
  type: 'state';
  /** The stack the buttons act on: the active StackSeg editor, if any. */
  stack: { name: string; path: string; hasLabels: boolean; /** Several channels / time points: jobs read one of each. */ channels?: number; frames?: number } | null;
  trusted: boolean;
  /** Trained models usable for "Segment": this stack's first, then those trained on other stacks (as the palette offers). */
  trained: PanelJob[];
  running: PanelJob[];
};

export type ModelPanelToHost =
  | { type: 'ready' }
  /**
   * `channel` / `timepoint`: which plane of a multi-channel / time-lapse stack the job reads (`--set channel=N`);
   * `channel: 'all'` reads every channel together (`--set channel=all`).
   */
  | { type: 'start'; kind: JobKind; model: ModelKind; params: Record<string, string>; modelFrom?: string; channel?: number | 'all'; timepoint?: number }
  | { type: 'cancel'; dir: string };

const KINDS: readonly JobKind[] = ['train', 'run', 'segment'];

/** Keys each message type may carry; openEnvelope refuses any other. */
const ALLOWED_KEYS: Record<ModelPanelToHost['type'], readonly string[]> = {
  ready: ['type'],
  start: ['type', 'kind', 'model', 'params', 'modelFrom', 'channel', 'timepoint'],
  cancel: ['type', 'dir'],
};

/** A string of at most `max` characters (paths, parameter names and values). */
function isText(v: unknown, max: number): v is string {
  return typeof v === 'string' && v.length <= max;
}

/** Never throws; rejects unknown types, extra keys, wrong types. Parameter values are checked later by the registry. */
export function parseModelPanelMessage(raw: unknown): Parsed<ModelPanelToHost> {
  const envelope = openEnvelope(raw, ALLOWED_KEYS, () => 'extra keys');
  if ('reason' in envelope) return fail(envelope.reason);
  const m = envelope.fields;
  switch (envelope.type) {
    case 'ready':
      return { ok: true, message: { type: 'ready' } };
    case 'cancel':
      if (!isText(m.dir, 4096)) return fail('cancel needs a dir string');
      return { ok: true, message: { type: 'cancel', dir: m.dir } };
    case 'start': {
      if (!isOneOf(m.kind, KINDS)) return fail(`kind must be one of ${KINDS.join(', ')}`);
      if (!isOneOf(m.model, MODEL_KINDS)) return fail(`model must be one of ${MODEL_KINDS.join(', ')}`);
      const p = m.params;
      if (!isRecord(p)) return fail('params must be an object');
      const entries = Object.entries(p);
      if (entries.length > 64 || entries.some(([k, v]) => !isText(v, 1000) || k.length > 64)) return fail('params must map names to strings');
      if (m.modelFrom !== undefined && !isText(m.modelFrom, 4096)) return fail('modelFrom must be a string');
      for (const k of ['channel', 'timepoint'] as const) {
        if (m[k] !== undefined && !(k === 'channel' && m[k] === 'all') && !isIntIn(m[k], 0, 65536)) return fail(`${k} must be a whole number 0..65535`);
      }
      const plane = { ...(m.channel !== undefined ? { channel: m.channel as number | 'all' } : {}), ...(m.timepoint !== undefined ? { timepoint: m.timepoint as number } : {}) };
      return { ok: true, message: { type: 'start', kind: m.kind, model: m.model, params: p as Record<string, string>, modelFrom: m.modelFrom as string | undefined, ...plane } };
    }
  }
}
