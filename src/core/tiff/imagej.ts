// ImageJ hyperstack metadata. ImageJ writes stacks over 4 GB (and some tools write others) as ONE directory plus
// the remaining slices stored contiguously after the first page's pixels; "images=N" in the description says so.
import { StackSegError } from '../errors';
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
