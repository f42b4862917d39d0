// Which page (and which sample within it) holds slice z of channel c at time point t. A TIFF stores planes of a
// C×Z×T hyperstack as a flat list of pages; read naively they interleave channels, so the order comes from the
// file's own metadata (ImageJ description, OME-XML, tifffile's shape/axes) and, when that is ambiguous, opening
// fails with one message instead of guessing.
import { basename } from 'node:path';
import { StackSegError } from '../../shared/errors';
import type { PageTable } from './ifd';
import type { ImageJMeta } from './imagej';

export interface StackAxes {
  depth: number;
  /** All channels: channels stored in separate pages × samples per pixel. */
  channels: number;
  frames: number;
  /** Order of the file's dimensions, slowest first, as tifffile names them (S: samples within a pixel). */
  axes: string;
  /** Where the order came from. */
  source: 'plain' | 'imagej' | 'ome' | 'shaped';
  /** Channels stored as separate pages; the rest are samples within a page (RGB, multi-sample). */
  pageChannels: number;
  samples: number;
  /** Page of (t, page channel, z): pageIndex[(t * pageChannels + cp) * depth + z]. */
  pageIndex: Int32Array;
  /** Set when a time series with one slice per time point is read with its frames as the stack's slices. */
  framesAsSlices?: boolean;
  /** Display colour per channel ('#rrggbb') when the file gives one for each (OME Channel Color). */
  colors?: string[];
}

const HINT = 're-save it as an ImageJ hyperstack (Fiji: Image > Hyperstacks > Stack to Hyperstack, then File > Save As > Tiff), '
  + 'or with tifffile: imwrite(path, data, imagej=True, metadata={"axes": "TZCYX"})';

function undetermined(path: string, why: string): never {
  throw new StackSegError(`cannot tell which pages are slices and which are channels or time points: ${why}`, { file: path, hint: HINT });
}

/** Page lookup for sizes (Z, Cp, T) whose page number is z*sz + c*sc + t*st. */
function strided(z: number, cp: number, t: number, sz: number, sc: number, st: number, base = 0): Int32Array {
  const idx = new Int32Array(z * cp * t);
  for (let ti = 0; ti < t; ti++) for (let ci = 0; ci < cp; ci++) for (let zi = 0; zi < z; zi++) idx[(ti * cp + ci) * z + zi] = base + zi * sz + ci * sc + ti * st;
  return idx;
}

/** A time series with one slice per time point is read as a stack of its frames: no plane is mixed either way. */
function finish(a: StackAxes): StackAxes {
  if (a.depth === 1 && a.frames > 1) return { ...a, depth: a.frames, frames: 1, framesAsSlices: true };
  return a;
}

export function resolveAxes(table: PageTable, imagej: ImageJMeta | undefined, path: string): StackAxes {
  const n = table.count;
  const spp = table.samplesPerPixel;
  const sampleAxis = spp > 1 ? (table.planar === 2 ? 'SYX' : 'YXS') : 'YX';
  const plain: StackAxes = { depth: n, channels: spp, frames: 1, axes: (n > 1 ? 'Z' : '') + sampleAxis, source: 'plain', pageChannels: 1, samples: spp, pageIndex: strided(n, 1, 1, 1, 0, 0) };
  const desc = table.description ?? '';
  if (imagej) {
    const c = imagej.channels ?? 1;
    const t = imagej.frames ?? 1;
    const z = imagej.slices ?? (imagej.channels || imagej.frames ? 1 : n);
    if (c * z * t !== n) undetermined(path, `the ImageJ description gives channels=${c}, slices=${z}, frames=${t} (${c * z * t} planes) but the file holds ${n}`);
    // ImageJ stores planes in CZT order, channels varying fastest.
    return finish({ depth: z, channels: c * spp, frames: t, axes: 'TZC' + sampleAxis, source: 'imagej', pageChannels: c, samples: spp, pageIndex: strided(z, c, t, c, 1, c * z) });
  }
  if (desc.includes('<OME') && desc.includes('<Pixels')) return finish(omeAxes(desc, table, path, sampleAxis));
  if (desc.startsWith('{') && desc.includes('"shape"')) {
    const shaped = shapedAxes(desc, table, path, sampleAxis);
    if (shaped) return finish(shaped);
  }
  return plain;
}

function attr(tag: string, name: string): string | undefined {
  const m = new RegExp(`\\b${name}\\s*=\\s*"([^"]*)"`).exec(tag);
  return m ? m[1] : undefined;
}

function omeAxes(xml: string, table: PageTable, path: string, sampleAxis: string): StackAxes {
  const start = xml.indexOf('<Pixels');
  const end = xml.indexOf('</Pixels>', start);
  const pixelsTag = xml.slice(start, xml.indexOf('>', start) + 1);
  const body = xml.slice(start, end < 0 ? undefined : end);
  const size = (k: string) => Number(attr(pixelsTag, k) ?? '1');
  const [Z, C, T] = [size('SizeZ'), size('SizeC'), size('SizeT')];
  const order = attr(pixelsTag, 'DimensionOrder') ?? '';
  if (![Z, C, T].every((v) => Number.isInteger(v) && v > 0) || !/^XY(ZCT|ZTC|CZT|CTZ|TZC|TCZ)$/.test(order)) {
    undetermined(path, `the OME-XML has DimensionOrder "${order}" with SizeZ=${Z}, SizeC=${C}, SizeT=${T}`);
  }
  const spp = table.samplesPerPixel;
  if (C % spp !== 0) undetermined(path, `the OME-XML has SizeC=${C} but the pages hold ${spp} samples per pixel`);
  const cp = C / spp;
  const sizes: Record<string, number> = { Z, C: cp, T };
  // Linear plane number of (z, c, t) in DimensionOrder: the first letter after XY varies fastest.
  const strides: Record<string, number> = {};
  let s = 1;
  for (const k of order.slice(2)) { strides[k] = s; s *= sizes[k]; }
  const planes = Z * cp * T;
  const linearToPage = new Int32Array(planes).fill(-1);
  const datas = [...body.matchAll(/<TiffData\b([^>]*?)(\/>|>([\s\S]*?)<\/TiffData>)/g)];
  const me = basename(path);
  if (datas.length === 0) for (let i = 0; i < planes; i++) linearToPage[i] = i;
  for (const d of datas) {
    const uuidFile = d[3] ? /FileName\s*=\s*"([^"]*)"/.exec(d[3])?.[1] : undefined;
    if (uuidFile !== undefined && uuidFile !== me) {
      throw new StackSegError(`this OME-TIFF is one file of a multi-file dataset (planes are stored in ${uuidFile})`, { file: path, hint: 'open it with Fiji/Bio-Formats and save the whole image as one OME-TIFF or ImageJ TIFF' });
    }
    const a = d[1];
    const ifd = Number(attr(a, 'IFD') ?? 0);
    const first = (attr(a, 'FirstZ') ? Number(attr(a, 'FirstZ')) * strides.Z : 0) + (attr(a, 'FirstC') ? Number(attr(a, 'FirstC')) * strides.C : 0) + (attr(a, 'FirstT') ? Number(attr(a, 'FirstT')) * strides.T : 0);
    const count = attr(a, 'PlaneCount') !== undefined ? Number(attr(a, 'PlaneCount')) : attr(a, 'IFD') !== undefined ? 1 : planes - first;
    for (let k = 0; k < count && first + k < planes; k++) linearToPage[first + k] = ifd + k;
  }
  const pageIndex = new Int32Array(planes);
  for (let t = 0; t < T; t++) for (let c = 0; c < cp; c++) for (let z = 0; z < Z; z++) {
    const page = linearToPage[z * strides.Z + c * strides.C + t * strides.T];
    if (!(page >= 0 && page < table.count)) undetermined(path, `the OME-XML places plane z=${z}, c=${c}, t=${t} ${page < 0 ? 'in no page' : `in page ${page}, but the file has ${table.count} pages`}`);
    pageIndex[(t * cp + c) * Z + z] = page;
  }
  const axes = order.slice(2).split('').reverse().join('') + sampleAxis;
  const colors = omeColors(body, C);
  return { depth: Z, channels: C, frames: T, axes, source: 'ome', pageChannels: cp, samples: spp, pageIndex, ...(colors ? { colors } : {}) };
}

/**
 * The viewer's channel colours from OME-XML: `<Channel Color="...">`, a signed 32-bit RGBA integer, for every one of
 * the C channels (else none: the viewer's defaults).
 */
export function omeColors(pixelsBody: string, channels: number): string[] | undefined {
  const tags = [...pixelsBody.matchAll(/<Channel\b[^>]*>/g)].map((m) => m[0]);
  if (tags.length !== channels || channels < 2) return undefined;
  const colors: string[] = [];
  for (const tag of tags) {
    const raw = attr(tag, 'Color');
    const v = raw === undefined ? NaN : Number(raw);
    if (!Number.isInteger(v) || v < -(2 ** 31) || v >= 2 ** 32) return undefined;
    const rgba = v >>> 0;
    colors.push(`#${[rgba >>> 24, (rgba >>> 16) & 255, (rgba >>> 8) & 255].map((x) => x.toString(16).padStart(2, '0')).join('')}`);
  }
  return colors;
}

/** tifffile's description: {"shape": [...]} and, when the writer gave them, {"axes": "ZCYX"}. */
function shapedAxes(desc: string, table: PageTable, path: string, sampleAxis: string): StackAxes | undefined {
  let meta: { shape?: unknown; axes?: unknown };
  try { meta = JSON.parse(desc); } catch { return undefined; }
  const shape = Array.isArray(meta.shape) && meta.shape.every((v) => Number.isInteger(v) && v > 0) ? meta.shape as number[] : undefined;
  if (!shape) return undefined;
  const lead = shape.slice(0, shape.length - sampleAxis.length);
  if (lead.reduce((a, b) => a * b, 1) !== table.count) return undefined; // the description is not about these pages
  const axes = typeof meta.axes === 'string' && meta.axes.length === shape.length ? meta.axes.toUpperCase().slice(0, lead.length) : undefined;
  const dims = lead.map((size, i) => ({ size, axis: axes ? axes[i] : '?', stride: lead.slice(i + 1).reduce((a, b) => a * b, 1) })).filter((d) => d.size > 1);
  const spp = table.samplesPerPixel;
  const sampleName = sampleAxis;
  if (dims.length === 0) return { depth: 1, channels: spp, frames: 1, axes: sampleName, source: 'shaped', pageChannels: 1, samples: spp, pageIndex: new Int32Array(1) };
  if (dims.length === 1 && dims[0].axis !== 'C' && dims[0].axis !== 'T') {
    return { depth: dims[0].size, channels: spp, frames: 1, axes: 'Z' + sampleName, source: 'shaped', pageChannels: 1, samples: spp, pageIndex: strided(dims[0].size, 1, 1, 1, 0, 0) };
  }
  if (!axes) undetermined(path, `tifffile's description gives the shape [${shape.join(', ')}] but not which axis is which`);
  const c = dims.filter((d) => d.axis === 'C');
  const t = dims.filter((d) => d.axis === 'T');
  const z = dims.filter((d) => d.axis !== 'C' && d.axis !== 'T');
  if (c.length > 1 || t.length > 1 || z.length > 1) undetermined(path, `the axes "${axes}" of shape [${shape.join(', ')}] have more than one ${z.length > 1 ? 'slice-like axis' : 'channel or time axis'}`);
  const [Z, C, T] = [z[0]?.size ?? 1, c[0]?.size ?? 1, t[0]?.size ?? 1];
  return {
    depth: Z, channels: C * spp, frames: T, axes: dims.map((d) => (d === z[0] ? 'Z' : d.axis)).join('') + sampleName, source: 'shaped',
    pageChannels: C, samples: spp, pageIndex: strided(Z, C, T, z[0]?.stride ?? 0, c[0]?.stride ?? 0, t[0]?.stride ?? 0),
  };
}
