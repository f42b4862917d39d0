// "Another program" for the labels-on-disk e2e tests: run as its own process, it writes a uint8 labels stack
// (temp + rename, as most tools do) with `value` in the rectangle x0,y0-x1,y1 of slice z.
// Usage: node otherWriter.cjs PATH WIDTH HEIGHT DEPTH Z VALUE X0 Y0 X1 Y1
import { writeStack } from '../../../src/core/tiff/writer';

const [path, ...nums] = process.argv.slice(2);
const [width, height, depth, z, value, x0, y0, x1, y1] = nums.map(Number);
void writeStack(path, {
  width, height, depth, dtype: 'uint8',
  getSlice(k: number) {
    const s = new Uint8Array(width * height);
    if (k === z) for (let y = y0; y < y1; y++) s.fill(value, y * width + x0, y * width + x1);
    return s;
  },
}).catch((e: unknown) => {
  console.error(e);
  process.exit(1);
});
