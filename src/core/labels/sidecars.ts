// Which labels + settings files belong to an image. `a.tif`, `a.tiff`, `a.ome.tif` and `a.ome.tiff` share the
// stem `a`, so they would share `a.labels.tif` + `a.stackseg.json`. Rule (README "Annotation"):
//  1. The settings json records the image it belongs to (`"image": "a.tif"`, its base name). A shared pair whose
//     json names another image that exists belongs to that image.
//  2. A pair without that record (older StackSeg, labels without json) belongs to the first existing sibling in the
//     order .tif, .tiff, .ome.tif, .ome.tiff (then by name): the same answer every time, whoever opens first.
//  3. When neither shared file exists, the image opened claims the shared names (its save records it).
// Any other sibling keeps its labels under its full file name: `a.tiff.labels.tif` + `a.tiff.stackseg.json`.
// Node only (fs); no vscode. A sync twin serves the job commands, which look up labels synchronously.

import { existsSync, promises as fs, readdirSync, readFileSync } from 'node:fs';
import { basename, dirname } from 'node:path';

/** The json key that names the image (base name) a settings file belongs to. */
export const IMAGE_KEY = 'image';

export interface SidecarPaths {
  labels: string;
  settings: string;
  /** True when these are the shared `<stem>.*` names. */
  shared: boolean;
  /** Set when another image owns the shared names: one line telling the user where this image's labels go. */
  notice?: string;
}

/** `dir/a.ome.tif` -> `dir/a` (strips .tif/.tiff and a trailing .ome), as src/core/jobs/store.ts stackStem. */
export function labelStem(imagePath: string): string {
  return imagePath.replace(/(\.ome)?\.tiff?$/i, '');
}

/** The shared names of the stem. */
export function sharedPaths(imagePath: string): { labels: string; settings: string } {
  const stem = labelStem(imagePath);
  return { labels: `${stem}.labels.tif`, settings: `${stem}.stackseg.json` };
}

/** The names of an image that does not own the shared stem: `a.tiff` -> `a.tiff.labels.tif`, `a.tiff.stackseg.json`. */
export function ownPaths(imagePath: string): { labels: string; settings: string } {
  return { labels: `${imagePath}.labels.tif`, settings: `${imagePath}.stackseg.json` };
}

const ORDER = ['.tif', '.tiff', '.ome.tif', '.ome.tiff'];

function rank(name: string): number {
  const lower = name.toLowerCase();
  for (let k = ORDER.length - 1; k >= 0; k--) if (lower.endsWith(ORDER[k]) && name.endsWith(ORDER[k])) return k;
  return ORDER.length; // upper-case spellings (.TIF) after the usual ones
}

/** Images in `names` with the same stem as `base` (e.g. a.tif, a.tiff, a.ome.tif), in ownership order. */
export function siblingsOf(base: string, names: readonly string[]): string[] {
  const stem = labelStem(base);
  const found = new Set(names.filter((n) => /\.tiff?$/i.test(n) && labelStem(n) === stem));
  found.add(base);
  return [...found].sort((a, b) => rank(a) - rank(b) || (a < b ? -1 : a > b ? 1 : 0));
}

/**
 * The owner of the shared names, from what is on disk: `recorded` (the json's image key, undefined when absent),
 * `pairExists` (either shared file exists) and the sibling images present (including this one).
 */
export function shareOwner(base: string, siblings: readonly string[], recorded: string | undefined, pairExists: boolean): string {
  if (recorded !== undefined && siblings.includes(recorded)) return recorded;
  if (!pairExists) return base;
  return siblings[0];
}

function recordedImage(text: string | undefined): string | undefined {
  if (text === undefined) return undefined;
  try {
    const v = (JSON.parse(text) as Record<string, unknown>)[IMAGE_KEY];
    return typeof v === 'string' && v.length > 0 ? v : undefined;
  } catch {
    return undefined;
  }
}

function decide(imagePath: string, names: readonly string[], jsonText: string | undefined, pairExists: boolean): SidecarPaths {
  const base = basename(imagePath);
  const shared = sharedPaths(imagePath);
  if (labelStem(base) === base) return { ...shared, shared: true }; // not a .tif name: nothing to share with
  const siblings = siblingsOf(base, names);
  const recorded = recordedImage(jsonText);
  const owner = shareOwner(base, siblings, recorded, pairExists);
  if (owner === base) return { ...shared, shared: true };
  const own = ownPaths(imagePath);
  const why = recorded === owner ? `recorded in ${basename(shared.settings)}` : `${owner} comes first of ${siblings.join(', ')}`;
  return {
    ...own,
    shared: false,
    notice: `${basename(shared.labels)} and ${basename(shared.settings)} belong to ${owner} (${why}); the labels of ${base} are kept in ${basename(own.labels)} and ${basename(own.settings)}.`,
  };
}

async function readText(path: string): Promise<string | undefined> {
  try { return await fs.readFile(path, 'utf8'); } catch { return undefined; }
}

async function present(path: string): Promise<boolean> {
  try { await fs.access(path); return true; } catch { return false; }
}

/** The labels and settings files of `imagePath` (see the rule at the top). */
export async function resolveSidecars(imagePath: string): Promise<SidecarPaths> {
  const shared = sharedPaths(imagePath);
  const names = await fs.readdir(dirname(imagePath)).catch(() => [] as string[]);
  const jsonText = await readText(shared.settings);
  const pairExists = jsonText !== undefined || await present(shared.labels) || await present(shared.settings);
  return decide(imagePath, names, jsonText, pairExists);
}

/** Sync twin of resolveSidecars, for callers that look up a stack's labels file synchronously (job commands). */
export function resolveSidecarsSync(imagePath: string): SidecarPaths {
  const shared = sharedPaths(imagePath);
  let names: string[] = [];
  try { names = readdirSync(dirname(imagePath)); } catch { /* unreadable folder: the image alone */ }
  let jsonText: string | undefined;
  try { jsonText = readFileSync(shared.settings, 'utf8'); } catch { /* absent */ }
  const pairExists = jsonText !== undefined || existsSync(shared.labels) || existsSync(shared.settings);
  return decide(imagePath, names, jsonText, pairExists);
}
