// The foam variants as the Random Forest benchmarks (quality_rf.ts, rf_settle.ts) read them: the sparse labels of
// slice 0, each variant normalised as a job does, and its features slice by slice, with the anisotropic 3-D bank on
// the whole (small) normalised volume where rf dims (auto) asks for it.
import { computeFeatures, featureNames, type FeatureOptions } from '../src/core/features/bank';
import { FeatureBank3d, featureNames3d } from '../src/core/features/bank3d';
import { autoDims, resolveDims, zRatioOf } from '../src/core/features/volumeChunks';
import { fitNormalizationFromSource, normalizeSlice } from '../src/core/models/normalize';
import type { ModelParams } from '../src/shared/models/registry';
import { openStack } from '../src/core/tiff';

/** Slice 0's sparse labels (1 = background, 2 = foam). */
export async function foamSparseLabels(dataDir: string): Promise<Uint8Array> {
  const stack = await openStack(`${dataDir}/sparse_labels_slice0.tif`);
  try { return (await stack.readSlice(0)) as Uint8Array; } finally { await stack.close(); }
}

export interface FoamVariant {
  width: number;
  height: number;
  depth: number;
  /** The 3-D bank is used (dims resolved to 3d). */
  is3d: boolean;
  names: string[];
  /** Slice 0 normalised, and its features. */
  n0: Float32Array;
  f0: Float32Array;
  /** Features of slice z (f0 for z = 0). */
  features(z: number): Promise<Float32Array>;
  close(): Promise<void>;
}

export async function openFoamVariant(dataDir: string, variant: string, params: ModelParams, fo: FeatureOptions, sparse: Uint8Array): Promise<FoamVariant> {
  const stack = await openStack(`${dataDir}/${variant}.tif`);
  const { width: w, height: h, depth } = stack.info;
  const norm = await fitNormalizationFromSource(stack);
  const normalised = async (z: number) => normalizeSlice(await stack.readSlice(z), norm);
  const n0 = await normalised(0);
  const asked = resolveDims(params, depth);
  const dims = asked === 'auto' ? autoDims([{ normalised: n0, labels: sparse }], w, h).dims : asked;
  const vol = dims === '3d' ? await Promise.all(Array.from({ length: depth }, (_, z) => normalised(z))) : [];
  const bank = dims === '3d' ? new FeatureBank3d(w, h, fo, zRatioOf(stack.info, params)) : null;
  const names = bank ? featureNames3d(fo) : featureNames(fo);
  const sel = names.map((_, i) => i);
  const compute = async (z: number, n: Float32Array) => {
    if (!bank) return computeFeatures(n, w, h, fo);
    const out = new Float32Array(names.length * w * h);
    bank.compute((zz) => vol[zz], z, depth, sel, out);
    return out;
  };
  const f0 = await compute(0, n0);
  return {
    width: w, height: h, depth, is3d: !!bank, names, n0, f0,
    features: async (z) => (z === 0 ? f0 : compute(z, await normalised(z))),
    close: () => stack.close(),
  };
}
