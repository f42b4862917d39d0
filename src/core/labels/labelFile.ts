// Reading and writing `<stem>.labels.tif` (uint8 multi-page, same width/height/depth as the image) and
// `<stem>.stackseg.json`. Node only (fs); no vscode. Writes go to a temporary name and are renamed; a save writes
// both as one unit (sidecarWrite.ts writePair). Reading parses the directories only: the volume is backed by the
// file and decodes a slice when it is first needed (labelPages.ts); writing compresses pages and copies the
// unchanged ones (labelWrite.ts).

import { promises as fs } from 'node:fs';
import { StackSegError } from '../../shared/errors';
import { writeFileAtomic } from '../fsutil';
import { openStack } from '../tiff/index';
import { defaultSettings, parseSettings, serializeSettings, type StackSettings } from '../../shared/labels/classes';
import { countPairs, LabelPages, type PageIndex } from './labelPages';
import { LabelVolume } from './labelVolume';
import { writeLabelsTiff } from './labelWrite';

export interface Dims {
  width: number;
  height: number;
  depth: number;
}

// The shared names; which image owns them when a.tif and a.tiff sit side by side: sidecars.ts resolveSidecars.
export { labelStem, sharedPaths as labelPaths } from './sidecars';

/**
 * Opens a labels file as a volume backed by it: only the directories are read, and the pages whose label counts the
 * file does not record (files from other programs or older StackSeg versions) are scanned once, one at a time,
 * keeping nothing. Files the lazy reader does not handle (tiles, LZW, ...) are decoded up front, keeping only
 * non-empty slices. Throws StackSegError with code 'label-dims' when its size differs from the image, 'label-dtype'
 * when it is not uint8.
 */
export async function readLabelsFile(path: string, dims: Dims): Promise<LabelVolume> {
  const pages = await LabelPages.open(path).catch(() => undefined);
  if (pages && pages.width === dims.width && pages.height === dims.height && pages.depth === dims.depth) {
    try {
      await scanUncounted(pages);
      return new LabelVolume(dims.width, dims.height, dims.depth, pages);
    } catch (e) {
      pages.close();
      throw e;
    }
  }
  pages?.close();
  return readEagerly(path, dims);
}

/** Counts the labels of pages the file has no counts for; all-zero pages are told by one memcmp. */
async function scanUncounted(pages: LabelPages): Promise<void> {
  let zeros: Buffer | undefined;
  for (let z = 0; z < pages.depth; z++) {
    if (!Number.isNaN(pages.labeled(z))) continue;
    const data = await pages.readPageAsync(z);
    zeros ??= Buffer.alloc(data.length);
    if (zeros.equals(data)) pages.setCounts(z, 0, new Uint32Array(0));
    else {
      const { labeled, pairs } = countPairs(data);
      pages.setCounts(z, labeled, pairs);
    }
  }
}

async function readEagerly(path: string, dims: Dims): Promise<LabelVolume> {
  const stack = await openStack(path, { cacheBytes: 0 });
  try {
    const { width, height, depth, dtype } = stack.info;
    if (width !== dims.width || height !== dims.height || depth !== dims.depth) {
      throw new StackSegError(`labels are ${width} x ${height} x ${depth}, the image is ${dims.width} x ${dims.height} x ${dims.depth}`, {
        file: path, code: 'label-dims', hint: 'the labels belong to another stack',
      });
    }
    if (dtype !== 'uint8') {
      throw new StackSegError(`labels must be uint8, this file is ${dtype}`, { file: path, code: 'label-dtype', hint: 'StackSeg writes uint8 labels (0 = unlabeled, k = class k)' });
    }
    const volume = new LabelVolume(width, height, depth);
    for (let z = 0; z < depth; z++) volume.setSlice(z, (await stack.readSlice(z)) as Uint8Array);
    return volume;
  } finally {
    await stack.close().catch(() => undefined);
  }
}

/**
 * Writes the volume to `path` as it stands (deflate pages, shared empty page, unchanged pages copied from the
 * backing file). `path` is written in place: callers pass a temporary name (sidecarWrite.ts writePair). Returns the
 * index of the new file (LabelPages.withIndex backs the volume by it once it has its final name).
 */
export async function writeLabelsFile(path: string, volume: LabelVolume): Promise<PageIndex> {
  return writeLabelsTiff(path, volume);
}

export interface SettingsRead {
  settings: StackSettings;
  /** The old file's JSON object, so keys owned by others survive a save. */
  previous?: Record<string, unknown>;
  /** Set when the file exists but cannot be used (defaults are returned). */
  warning?: string;
}

export async function readSettingsFile(path: string): Promise<SettingsRead> {
  let text: string;
  try {
    text = await fs.readFile(path, 'utf8');
  } catch (e) {
    if ((e as NodeJS.ErrnoException).code === 'ENOENT') return { settings: defaultSettings() };
    return { settings: defaultSettings(), warning: `${path}: cannot be read (${(e as NodeJS.ErrnoException).code ?? String(e)}); default classes are used` };
  }
  try {
    const settings = parseSettings(text, path);
    return { settings, previous: JSON.parse(text) as Record<string, unknown> };
  } catch (e) {
    return { settings: defaultSettings(), warning: e instanceof Error ? e.message : String(e) };
  }
}

export async function writeSettingsFile(path: string, settings: StackSettings, previous?: Record<string, unknown>): Promise<void> {
  await writeFileAtomic(path, serializeSettings(settings, previous));
}
