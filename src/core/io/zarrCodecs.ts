// Faster decoders for zarrita's codec registry: gzip and zlib through Node's native zlib (in the libuv threadpool,
// so the calling thread is free while a chunk inflates; zarrita's default goes through web streams), and Blosc
// with LZ4 + byte shuffle in plain JavaScript (blosc.ts); other Blosc frames go to numcodecs' WebAssembly Blosc.

import { promisify } from 'node:util';
import * as zlib from 'node:zlib';
import { bloscDecode } from './blosc';

const gunzip = promisify(zlib.gunzip), inflate = promisify(zlib.inflate);
const gzipAsync = promisify(zlib.gzip), deflateAsync = promisify(zlib.deflate);

const asBytes = (b: Buffer): Uint8Array => new Uint8Array(b.buffer, b.byteOffset, b.byteLength);

interface Codec { kind: 'bytes_to_bytes'; encode(b: Uint8Array): Promise<Uint8Array>; decode(b: Uint8Array): Promise<Uint8Array> }
type Loader = () => unknown;
type Registry = Map<string, Loader>;

function zlibCodec(name: 'gzip' | 'zlib') {
  return class implements Codec {
    kind = 'bytes_to_bytes' as const;
    constructor(private level: number) {}
    static fromConfig(cfg: { level?: number } = {}) { return new this(cfg.level ?? 1); }
    async encode(b: Uint8Array) { return asBytes(await (name === 'gzip' ? gzipAsync : deflateAsync)(b, { level: this.level })); }
    async decode(b: Uint8Array) { return asBytes(await (name === 'gzip' ? gunzip : inflate)(b)); }
  };
}

/** numcodecs' Blosc class (fromConfig -> { encode, decode }), loaded only for frames bloscDecode leaves. */
type BloscLike = { encode(b: Uint8Array): Promise<Uint8Array> | Uint8Array; decode(b: Uint8Array): Promise<Uint8Array> | Uint8Array };
function bloscCodec(fallback: Loader) {
  return class implements Codec {
    kind = 'bytes_to_bytes' as const;
    private slow?: Promise<BloscLike>;
    constructor(private cfg: Record<string, unknown>) {}
    static fromConfig(cfg: Record<string, unknown> = {}) { return new this(cfg); }
    private wasm(): Promise<BloscLike> {
      this.slow ??= Promise.resolve(fallback()).then((C) => (C as { fromConfig(c: unknown): BloscLike }).fromConfig(this.cfg));
      return this.slow;
    }
    async encode(b: Uint8Array) { return (await this.wasm()).encode(b); }
    async decode(b: Uint8Array) { return bloscDecode(b) ?? (await this.wasm()).decode(b); }
  };
}

const patched = new WeakSet<object>();

/** Replaces zarrita's gzip, zlib and Blosc entries (v3 names and numcodecs.* v2 names) once per registry. */
export function installFastCodecs(registry: Registry): void {
  if (patched.has(registry)) return;
  patched.add(registry);
  const Gzip = zlibCodec('gzip'), Zlib = zlibCodec('zlib');
  const wasmBlosc = registry.get('blosc') ?? registry.get('numcodecs.blosc');
  const Blosc = wasmBlosc && bloscCodec(wasmBlosc);
  for (const prefix of ['', 'numcodecs.']) {
    registry.set(`${prefix}gzip`, () => Gzip);
    registry.set(`${prefix}zlib`, () => Zlib);
    if (Blosc) registry.set(`${prefix}blosc`, () => Blosc);
  }
}
