// The typed RPC helper (src/shared/rpc.ts) over a real MessageChannel (structured clone and transfer lists, as
// between worker threads): ids, errors, notifications, exit, dispose and cancel.
import { MessageChannel } from 'node:worker_threads';
import { afterEach, describe, expect, it } from 'vitest';
import { StackSegError } from '../../src/shared/errors';
import { RpcClient, RpcRemoteError, RpcServer, type RpcHandlers } from '../../src/shared/rpc';

interface M {
  double: { params: { data: Float32Array }; result: Float32Array };
  echo: { params: { x: number; ms?: number }; result: number };
  fail: { params: { stackSeg: boolean }; result: never };
  wait: { params: Record<string, never>; result: string };
  note: { params: string; result: void };
}

const ports: MessageChannel[] = [];
afterEach(() => { for (const c of ports.splice(0)) { c.port1.close(); c.port2.close(); } });

function link(handlers: RpcHandlers<M>, busy?: (b: boolean) => void) {
  const ch = new MessageChannel();
  ports.push(ch);
  const client = new RpcClient<M>((m, t) => ch.port1.postMessage(m, t), { busy });
  const server = new RpcServer<M>(handlers, (m, t) => ch.port2.postMessage(m, t));
  ch.port1.on('message', (m) => client.receive(m));
  ch.port2.on('message', (m) => server.receive(m));
  return { client, server, ch };
}

const sleep = (ms: number) => new Promise((r) => setTimeout(r, ms));

function handlers(extra: Partial<RpcHandlers<M>> = {}): RpcHandlers<M> {
  return {
    double: ({ data }, ctx) => { const out = data.map((v) => 2 * v); ctx.transfer(out.buffer as ArrayBuffer); return out; },
    echo: async ({ x, ms }) => { if (ms) await sleep(ms); return x; },
    fail: ({ stackSeg }) => { throw stackSeg ? new StackSegError('bad page', { file: '/a.tif', page: 3, hint: 'reopen it' }) : new TypeError('boom'); },
    wait: () => new Promise<string>(() => undefined),
    note: () => undefined,
    ...extra,
  };
}

describe('rpc', () => {
  it('matches replies to calls by id, in any order, and moves transferred buffers', async () => {
    const { client } = link(handlers());
    const slow = client.call('echo', { x: 1, ms: 30 });
    const fast = client.call('echo', { x: 2 });
    expect(await Promise.race([slow, fast])).toBe(2);
    expect(await slow).toBe(1);
    const data = Float32Array.of(1, 2, 3);
    const got = client.call('double', { data }, { transfer: [data.buffer] });
    expect(data.length).toBe(0); // moved, not copied
    expect(Array.from(await got)).toEqual([2, 4, 6]);
  });

  it('carries errors back: a StackSegError as the same class and message, anything else as RpcRemoteError', async () => {
    const { client } = link(handlers());
    const want = new StackSegError('bad page', { file: '/a.tif', page: 3, hint: 'reopen it' });
    const e1 = await client.call('fail', { stackSeg: true }).catch((e: unknown) => e);
    expect(e1).toBeInstanceOf(StackSegError);
    expect((e1 as StackSegError).message).toBe(want.message);
    expect((e1 as StackSegError).page).toBe(3);
    const e2 = await client.call('fail', { stackSeg: false }).catch((e: unknown) => e);
    expect(e2).toBeInstanceOf(RpcRemoteError);
    expect((e2 as Error).message).toBe('boom');
    const e3 = await client.call('nope' as 'echo', { x: 1 }).catch((e: unknown) => e);
    expect((e3 as Error).message).toMatch(/unknown method "nope"/);
  });

  it('notifications get no reply; foreign messages are left to the caller', async () => {
    const seen: string[] = [];
    const { client } = link(handlers({ note: (s) => { seen.push(s); } }));
    client.notify('note', 'a');
    expect(await client.call('echo', { x: 5 })).toBe(5); // after the notification, in order
    expect(seen).toEqual(['a']);
    expect(client.receive({ type: 'slice', z: 1 })).toBe(false);
    expect(client.size).toBe(0);
  });

  it('failAll rejects what is pending (a peer that exited) and later calls still go out; dispose refuses them', async () => {
    const busy: boolean[] = [];
    const { client } = link(handlers(), (b) => busy.push(b));
    const a = client.call('wait', {}).catch((e: Error) => e.message);
    const b = client.call('wait', {}).catch((e: Error) => e.message);
    expect(client.size).toBe(2);
    client.failAll(new Error('exit code 1'));
    expect(await Promise.all([a, b])).toEqual(['exit code 1', 'exit code 1']);
    expect(busy).toEqual([true, false]);
    expect(await client.call('echo', { x: 7 })).toBe(7);
    const c = client.call('wait', {}).catch((e: Error) => e.message);
    client.dispose(new Error('closed'));
    expect(await c).toBe('closed');
    expect(await client.call('echo', { x: 1 }).catch((e: Error) => e.message)).toBe('closed');
  });

  it('an aborted call rejects with the reason, the handler sees its signal abort and no reply comes back', async () => {
    let aborted!: () => void;
    const handlerSaw = new Promise<void>((r) => { aborted = r; });
    const posted: unknown[] = [];
    const { client, ch } = link(handlers({
      wait: (_p, ctx) => new Promise<string>((resolve) => ctx.signal.addEventListener('abort', () => { aborted(); resolve('late'); })),
    }));
    ch.port1.on('message', (m) => posted.push(m));
    const ac = new AbortController();
    const p = client.call('wait', {}, { signal: ac.signal });
    await sleep(10);
    ac.abort(new Error('user cancelled'));
    await expect(p).rejects.toThrow('user cancelled');
    await handlerSaw;
    await sleep(20);
    expect(posted).toEqual([]); // the handler's 'late' result was dropped
    expect(client.size).toBe(0);
    await expect(client.call('echo', { x: 1 }, { signal: ac.signal })).rejects.toThrow('user cancelled');
  });
});
