// One typed request/response channel over any postMessage: worker threads, worker processes (process.send) and
// webviews. The transport stays the caller's: a client is given a `post(msg, transfer?)` function and fed every
// message that arrives (receive() says whether it was one of its replies), so the same class serves all three.
// Shape after vscode-hexeditor's MessageHandler (shared/protocol.ts): request ids, a pending map, replies matched by id.
// Beyond it: errors come back as Error (a StackSegError as a StackSegError, same message), everything pending is
// rejected when the peer exits or the client is disposed, and an AbortSignal cancels a call (a `cancel` message;
// the server's handler sees its signal abort and its reply is dropped). Browser-safe: no node, no DOM types.
//
//   interface M { level: { params: { z: number }; result: Level } }          methods: name -> params, result
//   const client = new RpcClient<M>((m, t) => worker.postMessage(m, t));     worker.on('message', (m) => client.receive(m))
//   await client.call('level', { z }, { transfer, signal });
//   new RpcServer<M>({ level: (p, ctx) => { ctx.transfer(buf); return ... } }, post)   in the worker, fed the same way

import { StackSegError } from './errors';

/** What a transfer list may hold here (ArrayBuffers: pixels cross threads without a copy). */
export type Transfer = ArrayBuffer;
export type Post = (msg: RpcEnvelope, transfer?: Transfer[]) => unknown;

/** Methods one side serves: name -> { params, result }. A method only ever notified has result void. */
export type RpcSpec<M> = { [K in keyof M]: { params: unknown; result: unknown } };

/** How an error crosses: its message, and a StackSegError's parts so the other side rebuilds the same class. */
export interface RpcErrorData {
  message: string;
  stackSeg?: { what: string; file?: string; page?: number; hint?: string; code?: string };
}

/** `rpc` marks the envelope, so a peer that also gets other messages (a webview's events) can tell them apart. */
export type RpcEnvelope =
  | { rpc: 'call'; id: number; method: string; params: unknown }
  | { rpc: 'notify'; method: string; params: unknown }
  | { rpc: 'result'; id: number; value: unknown }
  | { rpc: 'error'; id: number; error: RpcErrorData }
  | { rpc: 'cancel'; id: number };

/** The part of AbortSignal used here (the DOM's and Node's both fit). */
export interface SignalLike {
  readonly aborted: boolean;
  readonly reason?: unknown;
  addEventListener(type: 'abort', listener: () => void, options?: { once?: boolean }): void;
  removeEventListener(type: 'abort', listener: () => void): void;
}

/** An error the other side threw (not a StackSegError): callers can tell it from one of their own. */
export class RpcRemoteError extends Error {
  constructor(message: string) {
    super(message);
    this.name = 'RpcRemoteError';
  }
}

export function describeError(e: unknown): RpcErrorData {
  if (e instanceof StackSegError) return { message: e.message, stackSeg: { what: e.what, ...e.options } };
  return { message: e instanceof Error ? e.message : String(e) };
}

export function reviveError(e: RpcErrorData): Error {
  if (e.stackSeg) {
    const { what, ...options } = e.stackSeg;
    return new StackSegError(what, options);
  }
  return new RpcRemoteError(e.message);
}

function isEnvelope(msg: unknown): msg is RpcEnvelope {
  return typeof msg === 'object' && msg !== null && typeof (msg as { rpc?: unknown }).rpc === 'string';
}

export interface CallOptions {
  /** Buffers moved to the other side (not copied); the caller's views of them become empty. */
  transfer?: Transfer[];
  /** Aborting rejects the call with signal.reason and tells the server to stop. */
  signal?: SignalLike;
}

export interface ClientOptions {
  /** Called with true when the first call is pending and false when none is (a worker is ref'd only while busy). */
  busy?: (busy: boolean) => void;
}

interface Pending { resolve(v: unknown): void; reject(e: unknown): void; cleanup(): void }

export class RpcClient<M extends RpcSpec<M>> {
  private readonly pending = new Map<number, Pending>();
  private nextId = 1;
  private disposedWith: unknown;
  private disposed = false;

  constructor(private readonly post: Post, private readonly opts: ClientOptions = {}) {}

  /** Calls pending now. */
  get size(): number { return this.pending.size; }

  call<K extends keyof M & string>(method: K, params: M[K]['params'], o: CallOptions = {}): Promise<M[K]['result']> {
    if (this.disposed) return Promise.reject(this.disposedWith);
    const signal = o.signal;
    if (signal?.aborted) return Promise.reject(signal.reason);
    const id = this.nextId++;
    return new Promise<M[K]['result']>((resolve, reject) => {
      const onAbort = () => {
        if (!this.settle(id)) return;
        reject(signal!.reason);
        this.post({ rpc: 'cancel', id });
      };
      signal?.addEventListener('abort', onAbort, { once: true });
      this.pending.set(id, { resolve: resolve as (v: unknown) => void, reject, cleanup: () => signal?.removeEventListener('abort', onAbort) });
      if (this.pending.size === 1) this.opts.busy?.(true);
      this.post({ rpc: 'call', id, method, params }, o.transfer);
    });
  }

  /** A message that wants no reply (setup, a new image). */
  notify<K extends keyof M & string>(method: K, params: M[K]['params'], transfer?: Transfer[]): void {
    if (this.disposed) return;
    this.post({ rpc: 'notify', method, params }, transfer);
  }

  /** Feed every message from the other side here; true when it was a reply (to this client or to a call it dropped). */
  receive(msg: unknown): boolean {
    if (!isEnvelope(msg) || (msg.rpc !== 'result' && msg.rpc !== 'error')) return false;
    const p = this.pending.get(msg.id);
    if (p && this.settle(msg.id)) {
      if (msg.rpc === 'result') p.resolve(msg.value);
      else p.reject(reviveError(msg.error));
    }
    return true;
  }

  /** Rejects every pending call with `error` (the other side exited or was stopped); later calls still go out. */
  failAll(error: unknown): void {
    for (const [id, p] of [...this.pending]) if (this.settle(id)) p.reject(error);
  }

  /** Rejects what is pending and every later call with `error`. */
  dispose(error: unknown = new Error('the channel was closed')): void {
    if (!this.disposed) {
      this.disposed = true;
      this.disposedWith = error;
    }
    this.failAll(error);
  }

  private settle(id: number): boolean {
    const p = this.pending.get(id);
    if (!p) return false;
    this.pending.delete(id);
    p.cleanup();
    if (this.pending.size === 0) this.opts.busy?.(false);
    return true;
  }
}

/** What a handler gets besides its params. */
export interface RpcContext {
  /** Aborts when the caller cancels; the reply is then dropped. */
  readonly signal: SignalLike;
  /** Buffers of the result to move instead of copy (each listed once). */
  transfer(...buffers: Transfer[]): void;
}

export type RpcHandlers<M extends RpcSpec<M>> = {
  [K in keyof M]: (params: M[K]['params'], ctx: RpcContext) => M[K]['result'] | Promise<M[K]['result']>;
};

/** AbortSignal's part used by handlers, without needing the DOM's or Node's AbortController types here. */
class CancelSignal implements SignalLike {
  aborted = false;
  reason: unknown;
  private listeners: (() => void)[] = [];
  addEventListener(_type: 'abort', listener: () => void): void { this.listeners.push(listener); }
  removeEventListener(_type: 'abort', listener: () => void): void { this.listeners = this.listeners.filter((l) => l !== listener); }
  abort(reason: unknown): void {
    if (this.aborted) return;
    this.aborted = true;
    this.reason = reason;
    for (const l of this.listeners.splice(0)) l();
  }
}

export class RpcServer<M extends RpcSpec<M>> {
  private readonly running = new Map<number, CancelSignal>();

  constructor(private readonly handlers: RpcHandlers<M>, private readonly post: Post) {}

  /**
   * Feed every message from the other side here; true when it was a call, notification or cancel. A handler starts
   * synchronously, in arrival order; a synchronous handler's reply is posted before receive() returns.
   */
  receive(msg: unknown): boolean {
    if (!isEnvelope(msg)) return false;
    if (msg.rpc === 'cancel') {
      this.running.get(msg.id)?.abort(new Error('cancelled by the caller'));
      return true;
    }
    if (msg.rpc !== 'call' && msg.rpc !== 'notify') return false;
    const handler = (this.handlers as Record<string, ((p: unknown, c: RpcContext) => unknown) | undefined>)[msg.method];
    const signal = new CancelSignal();
    const transfer = new Set<Transfer>();
    const ctx: RpcContext = { signal, transfer: (...buffers) => { for (const b of buffers) transfer.add(b); } };
    if (msg.rpc === 'notify') {
      // No one waits for a reply: a throw is this side's own (uncaught, as any other bug here).
      if (!handler) throw new Error(`unknown notification "${msg.method}"`);
      handler(msg.params, ctx);
      return true;
    }
    const id = msg.id;
    this.running.set(id, signal);
    const end = (reply: RpcEnvelope, list?: Transfer[]) => {
      this.running.delete(id);
      if (!signal.aborted) this.post(reply, list);
    };
    const fail = (e: unknown) => end({ rpc: 'error', id, error: describeError(e) });
    try {
      if (!handler) throw new Error(`unknown method "${msg.method}"`);
      const out = handler(msg.params, ctx);
      const done = (value: unknown) => end({ rpc: 'result', id, value }, transfer.size ? [...transfer] : undefined);
      if (out instanceof Promise) out.then(done).catch(fail);
      else done(out);
    } catch (e) {
      fail(e);
    }
    return true;
  }
}
