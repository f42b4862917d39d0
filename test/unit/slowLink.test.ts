// The e2e slow-link proxy (test/e2e/lib/slowLink.mjs) gives the bandwidth and round trip it is set to, on loopback.
import { once } from 'node:events';
import { connect, createServer, type AddressInfo, type Server, type Socket } from 'node:net';
import { afterEach, describe, expect, it } from 'vitest';
import { parseLink, startSlowLink, type SlowLink } from '../e2e/lib/slowLink.mjs';

const open: { close(): unknown }[] = [];
afterEach(async () => { for (const c of open.splice(0).reverse()) await c.close(); });

async function listen(onConn: (s: Socket) => void): Promise<{ server: Server; port: number }> {
  const server = createServer(onConn);
  server.listen(0, '127.0.0.1');
  await once(server, 'listening');
  open.push({ close: () => new Promise((r) => server.close(r)) });
  return { server, port: (server.address() as AddressInfo).port };
}

async function proxyTo(port: number, bitsPerSecond: number, rttMs: number): Promise<SlowLink> {
  const link = await startSlowLink({ target: { port }, bitsPerSecond, rttMs });
  open.push(link);
  return link;
}

function client(port: number): Promise<Socket> {
  const s = connect({ host: '127.0.0.1', port, noDelay: true });
  open.push({ close: () => s.destroy() });
  return once(s, 'connect').then(() => s);
}

/** Bytes per second from the first to the last byte received of `total`. */
function receiveRate(s: Socket, total: number): Promise<number> {
  return new Promise((resolve) => {
    let got = 0;
    let first = 0;
    s.on('data', (b: Buffer) => {
      if (got === 0) first = performance.now();
      got += b.length;
      if (got >= total) resolve(((got - b.length) / (performance.now() - first)) * 1000);
    });
  });
}

describe('slow link proxy', () => {
  it('parses the STACKSEG_E2E_LINK spec and refuses a bad one with an example', () => {
    expect(parseLink('20mbit,40ms')).toEqual({ bitsPerSecond: 20e6, rttMs: 40 });
    expect(parseLink('512kbit, 0.1s')).toEqual({ bitsPerSecond: 512e3, rttMs: 100 });
    expect(() => parseLink('fast')).toThrow(/20mbit,40ms/);
  });

  it('adds the round trip: a 1-byte ping-pong takes rtt within 10 %', async () => {
    const { port } = await listen((s) => s.on('data', (b) => s.write(b)));
    const link = await proxyTo(port, 20e6, 40);
    const s = await client(link.port);
    const times: number[] = [];
    for (let i = 0; i < 9; i++) {
      const t0 = performance.now();
      s.write(Buffer.from([i]));
      await once(s, 'data');
      times.push(performance.now() - t0);
    }
    times.sort((a, b) => a - b);
    const median = times[4];
    expect(median).toBeGreaterThan(40 * 0.9);
    expect(median).toBeLessThan(40 * 1.1);
  }, 10_000);

  it('limits the bandwidth downstream and upstream to the setting within 10 %', async () => {
    const total = 1_250_000; // 0.5 s at 20 Mbit/s
    const payload = Buffer.alloc(total, 7);
    let uploaded: Promise<number> | undefined;
    const { port } = await listen((s) => {
      s.write(payload);
      uploaded = receiveRate(s, total);
    });
    const link = await proxyTo(port, 20e6, 40);
    const s = await client(link.port);
    const down = await receiveRate(s, total);
    s.write(payload);
    while (!uploaded) await new Promise((r) => setTimeout(r, 5));
    const up = await uploaded;
    for (const rate of [down, up]) {
      expect(rate).toBeGreaterThan(2.5e6 * 0.9);
      expect(rate).toBeLessThan(2.5e6 * 1.1);
    }
    expect(link.stats().downBytes).toBe(total);
  }, 10_000);

  it('carries a WebSocket upgrade and its frames both ways', async () => {
    // A minimal upgrade: the proxy forwards bytes, so the 101 response and the frames after it arrive unchanged.
    const { port } = await listen((s) => {
      s.once('data', () => {
        s.write('HTTP/1.1 101 Switching Protocols\r\nUpgrade: websocket\r\nConnection: Upgrade\r\n\r\n');
        s.on('data', (frame) => s.write(frame));
      });
    });
    const link = await proxyTo(port, 50e6, 10);
    const s = await client(link.port);
    s.write('GET / HTTP/1.1\r\nHost: x\r\nUpgrade: websocket\r\nConnection: Upgrade\r\n\r\n');
    const [head] = await once(s, 'data') as [Buffer];
    expect(head.toString()).toMatch(/^HTTP\/1.1 101/);
    const frame = Buffer.from([0x82, 0x03, 1, 2, 3]); // binary frame, 3 bytes
    s.write(frame);
    const [echo] = await once(s, 'data') as [Buffer];
    expect([...echo]).toEqual([...frame]);
  }, 10_000);
});
