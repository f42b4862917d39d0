// Text shown in the status bar and inputs. Pure (no DOM). The e2e tests match these formats.

import type { DType } from '../src/shared/types';
import type { ViewerStackInfo } from '../src/shared/protocol';

export function isFloat(dtype: DType): boolean {
  return dtype === 'float32' || dtype === 'float64';
}

/** Integers as integers; floats with 4 decimals, or 4 significant digits in exponent form when tiny or huge. */
export function formatValue(v: number, dtype: DType): string {
  if (!isFloat(dtype)) return String(v);
  if (Number.isNaN(v)) return 'NaN';
  if (!Number.isFinite(v)) return v > 0 ? '∞' : '−∞';
  const a = Math.abs(v);
  if (a !== 0 && (a < 1e-3 || a >= 1e6)) return v.toExponential(3);
  return v.toFixed(4);
}

/** `Slice 3 / 32` for 0-based index 2 of 32 slices. */
export function formatSliceStatus(z: number, depth: number): string {
  return `Slice ${z + 1} / ${depth}`;
}

/**
 * `x 12, y 40: 0.5321`; from a coarse resolution level `x 12, y 40: ≈1234 (4×4 mean)`: the value shown is the mean
 * of the f x f block around the pixel, not the pixel's own value.
 */
export function formatPixelStatus(x: number, y: number, value: number | number[], dtype: DType, level = 1): string {
  // Several channels (composite): `x 12, y 40: 120 | 45`, channel 1 first.
  const text = Array.isArray(value) ? value.map((v) => `${level > 1 ? '≈' : ''}${formatValue(v, dtype)}`).join(' | ') : `${level > 1 ? '≈' : ''}${formatValue(value, dtype)}`;
  if (level > 1) return `x ${x}, y ${y}: ${text} (${level}×${level} mean)`;
  return `x ${x}, y ${y}: ${text}`;
}

/** `256 × 256 × 32 float32`; with channels or time points `256 × 256 × 32 uint16, 2 channels, 5 time points`. */
export function formatInfo(info: Pick<ViewerStackInfo, 'width' | 'height' | 'depth' | 'dtype' | 'channels' | 'frames'>): string {
  const c = info.channels ?? 1, t = info.frames ?? 1;
  const extra = [c > 1 ? `${c} channels` : '', t > 1 ? `${t} time points` : ''].filter(Boolean).join(', ');
  return `${info.width} × ${info.height} × ${info.depth} ${info.dtype}${extra ? `, ${extra}` : ''}`;
}

export function formatZoom(scale: number, devicePixelRatio = 1): string {
  const pct = scale * devicePixelRatio * 100;
  return `${pct >= 10 ? Math.round(pct) : pct.toFixed(1)}%`;
}

/** Window bound for the min/max inputs: integers for integer data, 4 significant digits for floats. */
export function formatLevel(v: number, dtype: DType): string {
  if (!isFloat(dtype)) return String(Math.round(v));
  return String(Number(v.toPrecision(4)));
}
