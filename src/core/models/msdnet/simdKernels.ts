// Two WebAssembly SIMD (f32x4) kernels for the native MSDNet trainer (native.ts): every dilated 3x3 convolution,
// its input and filter gradients and the 1x1 output layer reduce to shifted plane-wide
//   axpy(dst, src, w, n):  dst[i] += w * src[i]        (i < n, n a multiple of 4, byte addresses, unaligned is fine)
//   dot(a, b, n) -> f32:   sum a[i] * b[i]             (4 lane sums in float32, added at the end)
// The module is small enough to be written here byte by byte (no wabt needed); the comments give the WAT.
//
// API
//   SimdKernels.create(bytes): SimdKernels | null   null where WebAssembly SIMD is unavailable
//   k.f32: Float32Array over the module's memory (all of it, `bytes` rounded up to 64 KiB pages)
//   k.axpy / k.dot as above
//   k.conv9(dst, src, n, w, off): dst[i] += sum_t w[t] * src[i + off[t]/4], t < 9; w: 9 f32, off: 9 i32 byte offsets
//   k.dot9(a, b, n, off, out):     out[t] = sum_i a[i + off[t]/4] * b[i] (9 f32 written at byte address out)

const I32 = 0x7f, F32 = 0x7d, V128 = 0x7b;
const get = (i: number) => [0x20, i], set = (i: number) => [0x21, i];
const i32c = (v: number) => [0x41, v]; // only small non-negative constants (< 64) are used: one LEB byte
const ADD = 0x6a, SHL = 0x74, GE_U = 0x4f, LT_U = 0x49;
const simd = (op: number[]) => [0xfd, ...op];
const LOAD = simd([0x00, 0x00, 0x00]), STORE = simd([0x0b, 0x00, 0x00]); // memarg align 1 (unaligned ok), offset 0
const SPLAT = simd([0x13]), MUL4 = simd([0xe6, 0x01]), ADD4 = simd([0xe4, 0x01]);
const lane = (l: number) => simd([0x1f, l]); // f32x4.extract_lane
const F32_ADD = 0x92;

function leb(n: number): number[] {
  const out: number[] = [];
  do { let b = n & 0x7f; n >>>= 7; if (n) b |= 0x80; out.push(b); } while (n);
  return out;
}
const vec = (items: number[][]) => [...leb(items.length), ...items.flat()];
const section = (id: number, body: number[]) => [id, ...leb(body.length), ...body];
const name = (s: string) => [...leb(s.length), ...Array.from(s, (c) => c.charCodeAt(0))];
const body = (locals: number[][], code: number[]) => { const b = [...vec(locals), ...code, 0x0b]; return [...leb(b.length), ...b]; };

// (loop over pointers p0 (and p1) in 16-byte steps until p0 reaches `end`)
const loop = (p0: number, p1: number, end: number, inner: number[]) => [
  0x02, 0x40, ...get(p0), ...get(end), GE_U, 0x0d, 0, // block; if p0 >= end: break
  0x03, 0x40, ...inner,
  ...get(p0), ...i32c(16), ADD, ...set(p0), ...get(p1), ...i32c(16), ADD, ...set(p1),
  ...get(p0), ...get(end), LT_U, 0x0d, 0, 0x0b, 0x0b, // br_if loop; end loop; end block
];

// axpy(dst 0, src 1, w 2: f32, n 3); locals end 4: i32, wv 5: v128
const AXPY = body([[1, I32], [1, V128]], [
  ...get(3), ...i32c(2), SHL, ...get(0), ADD, ...set(4), ...get(2), ...SPLAT, ...set(5),
  ...loop(0, 1, 4, [...get(0), ...get(0), ...LOAD, ...get(1), ...LOAD, ...get(5), ...MUL4, ...ADD4, ...STORE]),
]);
// dot(a 0, b 1, n 2) -> f32; locals end 3: i32, acc 4: v128 (zero-initialised)
const DOT = body([[1, I32], [1, V128]], [
  ...get(2), ...i32c(2), SHL, ...get(0), ADD, ...set(3),
  ...loop(0, 1, 3, [...get(4), ...get(0), ...LOAD, ...get(1), ...LOAD, ...MUL4, ...ADD4, ...set(4)]),
  ...get(4), ...lane(0), ...get(4), ...lane(1), F32_ADD, ...get(4), ...lane(2), F32_ADD, ...get(4), ...lane(3), F32_ADD,
]);

// conv9(dst 0, src 1, n 2, w 3, off 4): dst[i] += sum_t w[t] * src[i + off[t]] (off in bytes): a 3x3 tap set in one
// pass (dst read and written once instead of 9 times). locals: end 5, off_t 6..14 (i32), w_t 15..23 (v128).
const F32_LOAD = (o: number) => [0x2a, 0x02, o], I32_LOAD = (o: number) => [0x28, 0x02, o], F32_STORE = (o: number) => [0x38, 0x02, o];
const taps = (fn: (t: number) => number[]) => Array.from({ length: 9 }, (_, t) => fn(t)).flat();
const CONV9 = body([[10, I32], [9, V128]], [
  ...get(2), ...i32c(2), SHL, ...get(0), ADD, ...set(5),
  ...taps((t) => [...get(4), ...I32_LOAD(4 * t), ...set(6 + t), ...get(3), ...F32_LOAD(4 * t), ...SPLAT, ...set(15 + t)]),
  ...loop(0, 1, 5, [...get(0), ...get(0), ...LOAD,
    ...taps((t) => [...get(1), ...get(6 + t), ADD, ...LOAD, ...get(15 + t), ...MUL4, ...ADD4]), ...STORE]),
]);
// dot9(a 0, b 1, n 2, off 3, out 4): out[t] = sum_i a[i + off[t]] * b[i]: the 9 filter-gradient taps sharing b's loads.
// locals: end 5, off_t 6..14 (i32), acc_t 15..23, bv 24 (v128).
const DOT9 = body([[10, I32], [10, V128]], [
  ...get(2), ...i32c(2), SHL, ...get(0), ADD, ...set(5),
  ...taps((t) => [...get(3), ...I32_LOAD(4 * t), ...set(6 + t)]),
  ...loop(0, 1, 5, [...get(1), ...LOAD, ...set(24),
    ...taps((t) => [...get(15 + t), ...get(0), ...get(6 + t), ADD, ...LOAD, ...get(24), ...MUL4, ...ADD4, ...set(15 + t)])]),
  ...taps((t) => [...get(4), ...get(15 + t), ...lane(0), ...get(15 + t), ...lane(1), F32_ADD, ...get(15 + t), ...lane(2), F32_ADD,
    ...get(15 + t), ...lane(3), F32_ADD, ...F32_STORE(4 * t)]),
]);

export const SIMD_KERNELS_WASM = new Uint8Array([
  0x00, 0x61, 0x73, 0x6d, 0x01, 0x00, 0x00, 0x00,
  ...section(1, vec([[0x60, ...vec([[I32], [I32], [F32], [I32]]), 0x00], [0x60, ...vec([[I32], [I32], [I32]]), 0x01, F32],
    [0x60, ...vec([[I32], [I32], [I32], [I32], [I32]]), 0x00]])),
  ...section(3, vec([[0], [1], [2], [2]])),
  ...section(5, vec([[0x00, 0x01]])), // one memory, at least 1 page, grown by create()
  ...section(7, vec([[...name('memory'), 0x02, 0], [...name('axpy'), 0x00, 0], [...name('dot'), 0x00, 1], [...name('conv9'), 0x00, 2], [...name('dot9'), 0x00, 3]])),
  ...section(10, vec([AXPY, DOT, CONV9, DOT9])),
]);

interface Exports {
  memory: WebAssembly.Memory;
  axpy(dst: number, src: number, w: number, n: number): void;
  dot(a: number, b: number, n: number): number;
  conv9(dst: number, src: number, n: number, w: number, off: number): void;
  dot9(a: number, b: number, n: number, off: number, out: number): void;
}

let compiled: WebAssembly.Module | null | undefined;

export class SimdKernels {
  private constructor(private readonly exp: Exports, readonly f32: Float32Array) {}

  static create(bytes: number): SimdKernels | null {
    if (compiled === undefined) {
      try { compiled = new WebAssembly.Module(SIMD_KERNELS_WASM); } catch { compiled = null; }
    }
    if (!compiled) return null;
    const exp = new WebAssembly.Instance(compiled).exports as unknown as Exports;
    const pages = Math.ceil(bytes / 65536);
    if (pages > 1) exp.memory.grow(pages - 1);
    return new SimdKernels(exp, new Float32Array(exp.memory.buffer));
  }

  axpy(dst: number, src: number, w: number, n: number): void { this.exp.axpy(dst, src, w, n); }
  dot(a: number, b: number, n: number): number { return this.exp.dot(a, b, n); }
  conv9(dst: number, src: number, n: number, w: number, off: number): void { this.exp.conv9(dst, src, n, w, off); }
  dot9(a: number, b: number, n: number, off: number, out: number): void { this.exp.dot9(a, b, n, off, out); }
}
