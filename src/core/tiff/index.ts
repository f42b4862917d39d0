// Public API of the TIFF layer: lazy stack reader and streaming multi-page writer.
export { openStack, readStack, TiffStack, DEFAULT_CACHE_BYTES, type OpenOptions } from './reader';
export { allocPixels } from '../../shared/types';
export { SliceCache } from '../../shared/lru';
export { StackWriter, writeStack, type StackSpec, type WriteOptions } from './writer';
