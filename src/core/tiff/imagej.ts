// ImageJ hyperstack metadata. ImageJ writes stacks over 4 GB (and some tools write others) as ONE directory plus
// the remaining slices stored contiguously after the first page's pixels; "images=N" in the description says so.
import { StackSegError } from '../../shared/errors';
import { rowBytes, type PageTable } from './ifd';

export interface ImageJMeta {
  images?: number; slices?: number; channels?: number; frames?: number; spacing?: number; unit?: string;
}

export function parseImageJDescription(text: string): ImageJMeta | undefined {
  if (!text.startsWith('ImageJ=')) return undefined;
  const meta: ImageJMeta = {};
  for (const line of text.split('\n')) {
    const eq = line.indexOf('=');
    if (eq < 0) continue;
    const key = line.slice(0, eq).trim();
    const value = line.slice(eq + 1).trim();
    const num = Number(value);
    if (key === 'images' || key === 'slices' || key === 'channels' || key === 'frames') {
      if (Number.isInteger(num) && num > 0) meta[key] = num;
    } else if (key === 'spacing') {
      if (Number.isFinite(num)) meta.spacing = num;
    } else if (key === 'unit') {
      meta.unit = value.replace(/\\u00B5/g, 'µ');
    }
  }
  return meta;
}

/** Adds the contiguous pages that follow page 0 when the description announces more images than directories. */
export function expandImageJPages(table: PageTable, images: number, fileSize: number, path: string): PageTable {
  const pageBytes = rowBytes(table.width, table.samplesPerPixel, table.bitsPerSample) * table.height;
  const s = table.chunkStart[0];
  const n = table.chunkCount[0];
  let contiguous = table.compression[0] === 1 && table.tileWidth[0] === 0 && table.planar === 1;
  for (let i = 1; contiguous && i < n; i++) {
    if (table.chunkOffsets[s + i] !== table.chunkOffsets[s + i - 1] + table.chunkByteCounts[s + i - 1]) contiguous = false;
  }
  // Only the ImageJ layout (uncompressed, contiguous) can be extended; otherwise keep the directories we found.
  if (!contiguous) return table;
  const first = table.chunkOffsets[s];
  const end = first + images * pageBytes;
  if (end > fileSize) {
    const whole = Math.floor((fileSize - first) / pageBytes);
    throw new StackSegError(`truncated file: the ImageJ description announces ${images} images but the file holds only ${whole} (needs ${end} bytes, has ${fileSize})`, { file: path, page: whole, hint: 'the file was not fully written or copied; copy it again' });
  }
  const count = images;
  const grown: PageTable = {
    ...table, count,
    compression: new Uint16Array(count).fill(1), predictor: new Uint8Array(count).fill(1),
    tileWidth: new Uint32Array(count), tileHeight: new Uint32Array(count),
    rowsPerStrip: new Uint32Array(count).fill(table.height), chunkStart: new Uint32Array(count), chunkCount: new Uint32Array(count).fill(1),
    chunkOffsets: new Float64Array(count), chunkByteCounts: new Float64Array(count).fill(pageBytes),
  };
  // Pages that have their own directory keep its offsets only if they match the contiguous layout; ImageJ
  // writes them that way, so the formula holds for all.
  for (let i = 0; i < count; i++) { grown.chunkStart[i] = i; grown.chunkOffsets[i] = first + i * pageBytes; }
  return grown;
}

const LUTS = 0x6c757473; // 'luts'

/**
 * Channel colours from ImageJ's LUTs (IJMetadata tag: header 'IJIJ' + (type, count) pairs, then one block per entry;
 * a LUT is 256 reds, 256 greens, 256 blues): the colour of value 255 of each LUT, as '#rrggbb'. Undefined when the
 * file has none, or when every LUT is gray (the viewer's default colours tell channels apart better).
 */
export function imagejLutColors(meta: { counts: number[]; data: number[] } | undefined): string[] | undefined {
  if (!meta || meta.counts.length < 2 || meta.data.length < 4) return undefined;
  const d = meta.data;
  const magic = String.fromCharCode(d[0], d[1], d[2], d[3]);
  if (magic !== 'IJIJ' && magic !== 'JIJI') return undefined;
  const le = magic === 'JIJI';
  const u32 = (at: number) => (le ? (d[at] | (d[at + 1] << 8) | (d[at + 2] << 16) | (d[at + 3] << 24)) : ((d[at] << 24) | (d[at + 1] << 16) | (d[at + 2] << 8) | d[at + 3])) >>> 0;
  const headerBytes = meta.counts[0];
  let entry = 1, at = headerBytes;
  const colors: string[] = [];
  for (let h = 4; h + 8 <= headerBytes && h + 8 <= d.length; h += 8) {
    const type = u32(h), n = u32(h + 4);
    for (let k = 0; k < n && entry < meta.counts.length; k++, entry++) {
      const bytes = meta.counts[entry];
      if (type === LUTS && bytes === 768 && at + 768 <= d.length) {
        colors.push(`#${[d[at + 255], d[at + 511], d[at + 767]].map((v) => v.toString(16).padStart(2, '0')).join('')}`);
      }
      at += bytes;
    }
  }
  if (colors.length === 0 || colors.every((c) => c === '#ffffff')) return undefined;
  return colors;
}

