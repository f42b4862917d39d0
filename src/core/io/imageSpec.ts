// What an image argument names, from its text alone: a TIFF file, a folder or glob of single-image TIFFs, an HDF5
// dataset (`scan.h5:/exchange/data`) or a Zarr store (`vol.zarr`, `vol.zarr:labels/0`). Pure string work, so the
// sidecar names (labels, jobs) follow from the same text without touching the disk.

import { basename, dirname, join } from 'node:path';

export type SourceFormat = 'tiff' | 'folder' | 'hdf5' | 'zarr';

export type ParsedSpec =
  | { format: 'tiff'; path: string }
  /** A folder (pattern undefined: every .tif/.tiff in it) or a glob on file names inside dir. */
  | { format: 'folder'; dir: string; pattern?: string }
  | { format: 'hdf5'; file: string; dataset?: string }
  /** array: a path inside the store ('' or undefined: the store's root, or OME-Zarr level 0). */
  | { format: 'zarr'; store: string; array?: string }
  /** A path that may be a folder or a file: decided by looking at the disk (see resolveSpec in index.ts). */
  | { format: 'unknown'; path: string };

export const HDF5_EXT = /\.(h5|hdf5|hdf|he5|nxs|nx5|cxi)$/i;
const HDF5_SPEC = /^(.+?\.(?:h5|hdf5|hdf|he5|nxs|nx5|cxi))(?::(.*))?$/i;
const ZARR_SPEC = /^(.+?\.zarr)(?:[:/](.*))?$/i;
const TIFF_EXT = /\.tiff?$/i;

export const isGlob = (name: string): boolean => /[*?[]/.test(name);

export function parseSpec(spec: string): ParsedSpec {
  const h5 = HDF5_SPEC.exec(spec);
  if (h5) return { format: 'hdf5', file: h5[1], dataset: h5[2] ? normalizeInner(h5[2], '/') : undefined };
  const zarr = ZARR_SPEC.exec(stripSlash(spec));
  if (zarr) return { format: 'zarr', store: zarr[1], array: zarr[2] ? normalizeInner(zarr[2], '') || undefined : undefined };
  const name = basename(spec);
  if (isGlob(name)) return { format: 'folder', dir: dirname(spec), pattern: name };
  if (TIFF_EXT.test(spec)) return { format: 'tiff', path: spec };
  return { format: 'unknown', path: stripSlash(spec) };
}

/** `/a//b/` -> `/a/b` (HDF5, lead '/') or `a/b` (Zarr, lead ''). */
function normalizeInner(p: string, lead: string): string {
  const parts = p.split('/').filter((s) => s.length > 0);
  return lead + parts.join('/');
}

const stripSlash = (p: string): string => (p.length > 1 ? p.replace(/[\\/]+$/, '') : p);

/** The default HDF5 dataset: DXchange's reconstruction / projections. */
export const DXCHANGE_DATA = '/exchange/data';

/**
 * Where a stack's sidecars go, without extension: `dir/sample.tif` -> `dir/sample`, a folder `dir/recon` ->
 * `dir/recon` (so `dir/recon.labels.tif`, `dir/recon.stackseg/` sit beside the folder), a glob `dir/recon_*.tif`
 * -> `dir/recon`, `scan.h5` and `scan.h5:/exchange/data` -> `scan`, another dataset `scan.h5:/entry/data` ->
 * `scan.entry_data`, `vol.ome.zarr` -> `vol`.
 */
export function sourceStem(spec: string): string {
  const p = parseSpec(spec);
  switch (p.format) {
    case 'tiff': return join(dirname(p.path), basename(p.path).replace(/(\.ome)?\.tiff?$/i, ''));
    case 'hdf5': return withInner(p.file.replace(HDF5_EXT, ''), p.dataset === DXCHANGE_DATA ? undefined : p.dataset);
    case 'zarr': return withInner(p.store.replace(/(\.ome)?\.zarr$/i, ''), p.array);
    case 'folder': {
      // recon_*.tif -> recon; *.tif -> the folder itself.
      const fixed = p.pattern!.replace(/\.[^.*?[\]]*$/, '').replace(/[*?]|\[[^\]]*\]/g, '').replace(/[-_. ]+$/, '');
      return fixed ? join(p.dir, fixed) : p.dir;
    }
    default: return p.path;
  }
}

function withInner(stem: string, inner: string | undefined): string {
  const tail = inner?.split('/').filter(Boolean).join('_');
  return tail ? `${stem}.${tail}` : stem;
}

/** Natural order: recon_2 before recon_10; ties (recon_01 vs recon_1) by plain code-point order. */
const collator = new Intl.Collator('en', { numeric: true, sensitivity: 'base' });
export function naturalCompare(a: string, b: string): number {
  return collator.compare(a, b) || (a < b ? -1 : a > b ? 1 : 0);
}

/** A file-name glob (`*`, `?`, `[abc]`) as an anchored regular expression. */
export function globToRegExp(glob: string): RegExp {
  let re = '';
  for (let i = 0; i < glob.length; i++) {
    const c = glob[i];
    if (c === '*') re += '[^/]*';
    else if (c === '?') re += '[^/]';
    else if (c === '[') {
      const end = glob.indexOf(']', i + 1);
      if (end < 0) { re += '\\['; continue; }
      const body = glob.slice(i + 1, end).replace(/^!/, '^').replace(/\\/g, '\\\\');
      re += `[${body}]`;
      i = end;
    } else re += c.replace(/[.+^${}()|\\]/g, '\\$&');
  }
  return new RegExp(`^${re}$`);
}
