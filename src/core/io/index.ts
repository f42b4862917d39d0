// One door for every image format: `openSource(spec)` reads what the spec names and returns a lazy SliceSource.
//   file.tif                 TIFF (src/core/tiff)
//   DIR, DIR/recon_*.tiff    a folder / glob of single-image TIFFs, natural order (folder.ts)
//   scan.h5[:/dataset]       HDF5, default /exchange/data (hdf5.ts)
//   vol.zarr[:array]         Zarr v2/v3, OME-Zarr level 0 (zarr.ts)

import { createHash } from 'node:crypto';
import { promises as fs } from 'node:fs';
import { join } from 'node:path';
import { StackSegError } from '../../shared/errors';
import { fingerprint, type FileFingerprint } from '../fsutil';
import { openStack } from '../tiff/reader';
import type { SliceSource } from '../../shared/types';
import { FolderStack, listStackFiles } from './folder';
import { Hdf5Stack } from './hdf5';
import { parseSpec, type ParsedSpec } from './imageSpec';
import { ZarrStack } from './zarr';

export { sourceStem, parseSpec, DXCHANGE_DATA, type SourceFormat } from './imageSpec';
export { listHdf5Datasets } from './hdf5';

export interface SourceOptions {
  /** Bytes of decoded slices kept in memory; 0: only what a chunked format needs for one slab. */
  cacheBytes?: number;
}

const HDF5_MAGIC = Buffer.from([0x89, 0x48, 0x44, 0x46, 0x0d, 0x0a, 0x1a, 0x0a]);

/** Decides what a spec names, looking at the disk where the text alone cannot tell (folders, unknown suffixes). */
export async function resolveSpec(spec: string): Promise<ParsedSpec> {
  const p = parseSpec(spec);
  if (p.format !== 'unknown') return p;
  const st = await fs.stat(p.path).catch(() => undefined);
  if (!st) throw new StackSegError('file or folder not found', { file: p.path, hint: 'check the path; a glob such as recon_*.tif must be quoted' });
  if (st.isDirectory()) {
    const names = await fs.readdir(p.path);
    if (names.includes('.zarray') || names.includes('.zgroup') || names.includes('zarr.json')) return { format: 'zarr', store: p.path };
    return { format: 'folder', dir: p.path };
  }
  // A file with another suffix: HDF5 by its signature, else TIFF (whose reader names what is wrong).
  const fh = await fs.open(p.path, 'r');
  try {
    const head = Buffer.alloc(8);
    await fh.read(head, 0, 8, 0);
    if (head.equals(HDF5_MAGIC)) return { format: 'hdf5', file: p.path };
  } finally {
    await fh.close();
  }
  return { format: 'tiff', path: p.path };
}

export async function openSource(spec: string, opts: SourceOptions = {}): Promise<SliceSource> {
  const p = await resolveSpec(spec);
  switch (p.format) {
    case 'folder': return FolderStack.open(p.dir, p.pattern, spec, opts);
    case 'hdf5': return Hdf5Stack.open(p.file, p.dataset, spec, opts);
    case 'zarr': return ZarrStack.open(p.store, p.array, spec, opts);
    default: return openStack(p.format === 'tiff' ? p.path : spec, opts);
  }
}

/**
 * What a job records about its image. A TIFF or HDF5 file: size, time and SHA-256 of the file. A folder or Zarr
 * store: the SHA-256 of its listing (names, sizes, times), not of every byte, so that 2000 files are not read twice.
 */
export async function sourceFingerprint(spec: string): Promise<FileFingerprint> {
  const p = await resolveSpec(spec);
  if (p.format === 'tiff') return fingerprint(p.path);
  if (p.format === 'hdf5') return { ...(await fingerprint(p.file)), path: spec };
  const files = p.format === 'folder' ? (await listStackFiles(p.dir, p.pattern)).map((n) => join(p.dir, n)) : await walkFiles(p.format === 'zarr' ? p.store : spec);
  const hash = createHash('sha256');
  let size = 0, mtime = 0;
  for (const f of files) {
    const st = await fs.stat(f);
    size += st.size;
    mtime = Math.max(mtime, st.mtimeMs);
    hash.update(`${f}\0${st.size}\0${st.mtimeMs}\n`);
  }
  return { path: spec, size, mtime: new Date(mtime).toISOString(), sha256: hash.digest('hex') };
}

async function walkFiles(dir: string): Promise<string[]> {
  const out: string[] = [];
  for (const e of await fs.readdir(dir, { withFileTypes: true })) {
    const f = join(dir, e.name);
    if (e.isDirectory()) out.push(...(await walkFiles(f)));
    else if (e.isFile()) out.push(f);
  }
  return out.sort();
}
