// The part of the WebAssembly JS API that src/core uses. Node has it as a global, but TypeScript declares it only in
// the DOM and WebWorker libs, which tsconfig.core.json leaves out so that a DOM type in core is an error (issue 12).
declare namespace WebAssembly {
  class Module {
    constructor(bytes: ArrayBufferView | ArrayBuffer);
  }
  class Instance {
    constructor(module: Module, importObject?: Record<string, Record<string, unknown>>);
    readonly exports: Record<string, unknown>;
  }
  class Memory {
    constructor(descriptor: { initial: number; maximum?: number; shared?: boolean });
    readonly buffer: ArrayBuffer;
    grow(delta: number): number;
  }
}
