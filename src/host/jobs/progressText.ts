// One progress model for every place that shows a running job (toast, Jobs view, Model panel): each formats the
// same JobProgress event with jobProgress(), so they never disagree. Pure: no vscode import (unit-tested).

import type { JobKind, JobProgress } from '../../shared/jobs/spec';

export interface ProgressView {
  /** e.g. "segment slice 20/32 · 63 %": the phase, its detail, the phase's own percent. */
  text: string;
  /** 0..100 over the whole job (a "run" is half training, half segmenting): the toast's and panel's bar. */
  overall: number;
}

const clamp = (v: number) => (Number.isFinite(v) ? Math.min(100, Math.max(0, v)) : 0);

export function jobProgress(kind: JobKind, p: JobProgress | undefined): ProgressView {
  if (!p) return { text: 'starting', overall: 0 };
  const percent = clamp(p.percent);
  const overall = kind === 'run' ? (p.phase === 'train' ? percent / 2 : p.phase === 'segment' ? 50 + percent / 2 : percent) : percent;
  const detail = p.message && p.message !== p.phase ? ` ${p.message}` : '';
  return { text: `${p.phase}${detail} · ${Math.round(percent)} %`, overall };
}
