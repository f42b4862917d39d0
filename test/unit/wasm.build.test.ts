// The filter bank and the forest run the WebAssembly embedded in convolveWasm.ts and forestWasm.ts; each must be
// exactly what its .wat builds to.
import { describe, expect, it } from 'vitest';
// @ts-expect-error plain ESM script without types
import { buildWasm, embeddedWasm } from '../../scripts/build-wasm.mjs';

describe('WebAssembly builds', () => {
  for (const name of ['convolve', 'forest']) {
    it(`the embedded ${name} module equals a fresh wabt build of its .wat`, async () => {
      const built: string = await buildWasm(name);
      expect(built.length).toBeGreaterThan(1000);
      expect(embeddedWasm(name)).toBe(built);
    });
  }
});
