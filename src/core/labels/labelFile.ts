// Reading and writing `<stem>.labels.tif` (uint8 multi-page, same width/height/depth as the image) and
// `<stem>.stackseg.json`. Node only (fs); no vscode. Writes go to a temporary name and are renamed; a save writes
// both as one unit (sidecarWrite.ts writePair).

import { promises as fs } from 'node:fs';
import { StackSegError } from '../errors';
import { writeFileAtomic } from '../fsutil';
import { openStack, StackWriter } from '../tiff/index';
import { defaultSettings, parseSettings, serializeSettings, type StackSettings } from './classes';
import { LabelVolume } from './labelVolume';

export interface Dims {
  width: number;
  height: number;
  depth: number;
}

// The shared names; which image owns them when a.tif and a.tiff sit side by side: sidecars.ts resolveSidecars.
export { labelStem, sharedPaths as labelPaths } from './sidecars';

/**
 * Reads a labels file into a volume (only non-empty slices are kept). Throws StackSegError with code
 * 'label-dims' when its size differs from the image, 'label-dtype' when it is not uint8.
 */
export async function readLabelsFile(path: string, dims: Dims): Promise<LabelVolume> {
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

/** Writes every slice (zeros where unpainted) as uint8; the writer uses a temporary name and renames on close. */
export async function writeLabelsFile(path: string, volume: LabelVolume): Promise<void> {
  const zeros = new Uint8Array(volume.sliceSize);
  const writer = await StackWriter.create(path, { width: volume.width, height: volume.height, depth: volume.depth, dtype: 'uint8' });
  try {
    for (let z = 0; z < volume.depth; z++) await writer.appendSlice(volume.slice(z) ?? zeros);
    await writer.close();
  } catch (e) {
    await writer.abort();
    throw e;
  }
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
