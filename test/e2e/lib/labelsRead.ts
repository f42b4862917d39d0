// Bundled by labels.ui.mjs at run time: reads a labels file with the project's own TIFF reader (test process side).
export { readStack } from '../../../src/core/tiff/reader';
