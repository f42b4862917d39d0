// Messages between the host and the Model panel webview (the StackSeg sidebar: model, parameters, Train/Segment).
// Both sides import this file; the host validates every message from the webview with parseModelPanelMessage.

import type { JobKind } from './jobs/spec';
import { MODEL_KINDS, type ModelKind } from './models/registry';

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
  /** `channel` / `timepoint`: which plane of a multi-channel / time-lapse stack the job reads (`--set channel=N`). */
  | { type: 'start'; kind: JobKind; model: ModelKind; params: Record<string, string>; modelFrom?: string; channel?: number; timepoint?: number }
  | { type: 'cancel'; dir: string };

const KINDS: readonly JobKind[] = ['train', 'run', 'segment'];

/** Never throws; rejects unknown types, extra keys, wrong types. Parameter values are checked later by the registry. */
export function parseModelPanelMessage(raw: unknown): { ok: true; message: ModelPanelToHost } | { ok: false; reason: string } {
  if (typeof raw !== 'object' || raw === null || Array.isArray(raw)) return { ok: false, reason: 'not an object' };
  const m = raw as Record<string, unknown>;
  const keys = Object.keys(m);
  const only = (allowed: string[]) => keys.every((k) => allowed.includes(k));
  switch (m.type) {
    case 'ready':
      return only(['type']) ? { ok: true, message: { type: 'ready' } } : { ok: false, reason: 'extra keys' };
    case 'cancel':
      if (!only(['type', 'dir']) || typeof m.dir !== 'string' || m.dir.length > 4096) return { ok: false, reason: 'cancel needs a dir string' };
      return { ok: true, message: { type: 'cancel', dir: m.dir } };
    case 'start': {
      if (!only(['type', 'kind', 'model', 'params', 'modelFrom', 'channel', 'timepoint'])) return { ok: false, reason: 'extra keys' };
      if (!KINDS.includes(m.kind as JobKind)) return { ok: false, reason: `kind must be one of ${KINDS.join(', ')}` };
      if (!MODEL_KINDS.includes(m.model as ModelKind)) return { ok: false, reason: `model must be one of ${MODEL_KINDS.join(', ')}` };
      const p = m.params;
      if (typeof p !== 'object' || p === null || Array.isArray(p)) return { ok: false, reason: 'params must be an object' };
      const entries = Object.entries(p as Record<string, unknown>);
      if (entries.length > 64 || entries.some(([k, v]) => typeof v !== 'string' || v.length > 1000 || k.length > 64)) return { ok: false, reason: 'params must map names to strings' };
      if (m.modelFrom !== undefined && (typeof m.modelFrom !== 'string' || m.modelFrom.length > 4096)) return { ok: false, reason: 'modelFrom must be a string' };
      for (const k of ['channel', 'timepoint'] as const) {
        const v = m[k];
        if (v !== undefined && !(typeof v === 'number' && Number.isInteger(v) && v >= 0 && v < 65536)) return { ok: false, reason: `${k} must be a whole number 0..65535` };
      }
      const plane = { ...(m.channel !== undefined ? { channel: m.channel as number } : {}), ...(m.timepoint !== undefined ? { timepoint: m.timepoint as number } : {}) };
      return { ok: true, message: { type: 'start', kind: m.kind as JobKind, model: m.model as ModelKind, params: p as Record<string, string>, modelFrom: m.modelFrom as string | undefined, ...plane } };
    }
    default:
      return { ok: false, reason: `unknown message type ${JSON.stringify(String(m.type)).slice(0, 40)}` };
  }
}
