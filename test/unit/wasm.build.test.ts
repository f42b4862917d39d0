// The filter bank runs the WebAssembly embedded in convolveWasm.ts; it must be exactly what convolve.wat builds to.
import { describe, expect, it } from 'vitest';
// @ts-expect-error plain ESM script without types
import { buildWasm, embeddedWasm } from '../../scripts/build-wasm.mjs';

describe('convolve.wat build', () => {
  it('the embedded module equals a fresh wabt build of convolve.wat', async () => {
    const built: string = await buildWasm('convolve');
    expect(built.length).toBeGreaterThan(1000);
    expect(embeddedWasm('convolve')).toBe(built);
  });
});
