// Shared value types of the core. Imports nothing from vscode: the same code runs in the extension host,
// worker threads, the CLI, Slurm tasks and the tests.

export type DType = 'uint8' | 'int8' | 'uint16' | 'int16' | 'uint32' | 'int32' | 'float32' | 'float64';

export type PixelArray =
  | Uint8Array | Int8Array | Uint16Array | Int16Array | Uint32Array | Int32Array | Float32Array | Float64Array;

/** What opening a stack tells without decoding any pixel. */
export interface StackInfo {
  path: string;
  width: number;
  height: number;
  depth: number;
  dtype: DType;
  bytesPerPixel: number;
  bigTiff: boolean;
  littleEndian: boolean;
  compression: string; // 'none' | 'lzw' | 'deflate' | 'packbits' | ...
  tiled: boolean;
  /**
   * Channels (C) and time points (T) besides the depth (Z). Absent means 1. A slice is always one channel at one
   * time point: readSlice(z, c, t).
   */
  channels?: number;
  frames?: number;
  /** Display colours of the channels ('#rrggbb', one per channel) when the file gives them (OME Channel Color). */
  channelColors?: string[];
  /** The file's dimension order, slowest first, tifffile's letters (e.g. 'TZCYX'; S: samples within a pixel). */
  axes?: string;
  /** Things the reader changed or assumed (half floats read as float32, ...), for logs and the viewer. */
  notes?: string[];
  /** Set when the slice count came from an ImageJ hyperstack description. */
  imagej?: { slices?: number; channels?: number; frames?: number; spacing?: number; unit?: string };
  /** Physical voxel size when the file gives it (OME PhysicalSizeX / PhysicalSizeZ): 3-D features scale z by z/x. */
  pixelSize?: { x?: number; z?: number };
  fileBytes: number;
  /** Where the pixels come from (absent: a TIFF file). */
  format?: 'tiff' | 'folder' | 'hdf5' | 'zarr';
  /** Folder stacks: the number of files (one slice each). */
  files?: number;
  /** HDF5 / Zarr: the dataset or array read, e.g. `/exchange/data`, `0` (OME-Zarr level 0). */
  dataset?: string;
}

/** A stack opened lazily: directories parsed, pixels decoded per slice on demand. */
export interface SliceSource {
  readonly info: StackInfo;
  /**
   * Decodes slice z (0-based) of channel c at time point t (both default 0) into a fresh typed array of
   * info.dtype, row-major, width*height long. Sources without channels ignore c and t.
   */
  readSlice(z: number, c?: number, t?: number): Promise<PixelArray>;
  /** Optional: slice z possibly shared with the source's cache, for callers that only read it (never modify). */
  readSliceShared?(z: number, c?: number, t?: number): Promise<PixelArray>;
  /** Optional: rows y0..y0+rows-1 of slice z alone (undefined where the file's layout needs the whole slice). */
  readRows?(z: number, y0: number, rows: number, c?: number, t?: number): Promise<PixelArray | undefined>;
  /**
   * Optional: slice z reduced by f in x and y as the file itself stores it (OME-Zarr multiscales), a fresh array of
   * ceil(width / f) x ceil(height / f); undefined where the file has no such level.
   */
  readStoredLevel?(z: number, f: number, c?: number, t?: number): Promise<PixelArray | undefined>;
  close(): Promise<void>;
}

type PixelCtor = {
  new (n: number): PixelArray;
  new (b: ArrayBufferLike, byteOffset?: number, length?: number): PixelArray;
  readonly BYTES_PER_ELEMENT: number;
  readonly name: string;
};
/** The typed array of each dtype: the one table for readers, writers, levels and both sides of the protocol. */
export const PIXEL_ARRAYS: Readonly<Record<DType, PixelCtor>> = {
  uint8: Uint8Array, int8: Int8Array, uint16: Uint16Array, int16: Int16Array,
  uint32: Uint32Array, int32: Int32Array, float32: Float32Array, float64: Float64Array,
} as unknown as Record<DType, PixelCtor>;

export const DTYPE_BYTES: Readonly<Record<DType, number>> = { uint8: 1, int8: 1, uint16: 2, int16: 2, uint32: 4, int32: 4, float32: 4, float64: 8 };

export function allocPixels(dtype: DType, length: number): PixelArray {
  return new PIXEL_ARRAYS[dtype](length);
}

/** A typed view of `length` dtype values over a buffer the caller owns, from byteOffset. */
export function pixelView(dtype: DType, buffer: ArrayBufferLike, byteOffset: number, length: number): PixelArray {
  return new PIXEL_ARRAYS[dtype](buffer, byteOffset, length);
}

export function isDType(value: unknown): value is DType {
  return typeof value === 'string' && Object.prototype.hasOwnProperty.call(PIXEL_ARRAYS, value);
}
