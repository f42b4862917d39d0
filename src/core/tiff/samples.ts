// Samples as arrays: the typed array of each dtype (also for the HDF5/Zarr readers), the dtype a TIFF sample type is
// read as, and the samples that are not read as stored: interleaved channels (RGB, multi-sample), half floats, 64-bit
// integers and packed bit depths (1-bit masks, 12-bit cameras). Input: the decoded page in file layout, host order.
import { PIXEL_ARRAYS, type DType, type PixelArray } from '../../shared/types';
import { halfToFloat, unpackBits } from './codecs';

/** The array type a sample type is read as: half floats as float32, 64-bit integers as float64, odd widths rounded up. */
export function dtypeOf(bits: number, format: number): DType {
  if (format === 3) return bits === 64 ? 'float64' : 'float32';
  if (bits === 64) return 'float64';
  const signed = format === 2;
  if (bits <= 8) return signed ? 'int8' : 'uint8';
  if (bits <= 16) return signed ? 'int16' : 'uint16';
  return signed ? 'int32' : 'uint32';
}

/** True when one sample per pixel of this type is the output array itself (no conversion). */
export function isDirect(bits: number, format: number): boolean {
  if (bits === 8 || bits === 32) return true;
  if (bits === 16) return format !== 3;
  if (bits === 64) return format === 3;
  return false;
}

const EXACT = 2 ** 53;

export interface Converted { planes: PixelArray[]; lostPrecision: boolean }

/** Splits `samples` interleaved samples per pixel into one array of `dtype` per sample. */
export function convertSamples(bytes: Uint8Array, width: number, height: number, samples: number, bits: number, format: number, dtype: DType): Converted {
  const n = width * height;
  const planes = Array.from({ length: samples }, () => new PIXEL_ARRAYS[dtype](n));
  let lostPrecision = false;
  const buf = bytes.buffer;
  const at = bytes.byteOffset;
  if (format === 3 && bits === 16) {
    const src = new Uint16Array(buf, at, n * samples);
    planes.forEach((p, s) => halfToFloat(src, p as Float32Array, samples, s));
  } else if (bits === 64 && format !== 3) {
    const src = format === 2 ? new BigInt64Array(buf, at, n * samples) : new BigUint64Array(buf, at, n * samples);
    planes.forEach((p, s) => {
      for (let i = 0, j = s; i < n; i++, j += samples) {
        const v = Number(src[j]);
        if (v > EXACT || v < -EXACT) lostPrecision = true;
        p[i] = v;
      }
    });
  } else if (bits % 8 !== 0 || bits > 64) {
    planes.forEach((p, s) => unpackBits(bytes, bits, width, height, samples, s, p as Uint8Array | Uint16Array | Uint32Array));
  } else {
    // Standard samples, interleaved: a view of the stored type, copied out one channel at a time.
    const all = new PIXEL_ARRAYS[dtype](buf, at, n * samples);
    planes.forEach((p, s) => { for (let i = 0, j = s; i < n; i++, j += samples) p[i] = all[j]; });
  }
  return { planes, lostPrecision };
}
