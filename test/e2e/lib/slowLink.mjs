// A slow link for the real-VS-Code tests: a loopback TCP proxy between Chromium and code-server that adds a set
// bandwidth and round trip, as Remote-SSH between a laptop and a facility's node does. Plain TCP forwarding, so HTTP,
// WebSocket upgrades and the workbench's binary frames all pass unchanged.
// Each direction is one shared link (all connections queue on it, as on a real one):
//   - token bucket: a chunk leaves when the bucket (BURST_BYTES deep, filled at `bitsPerSecond`) holds its bytes;
//     written as virtual time (a chunk's departure = max(now, max(previous departure, now - burst time) + its
//     serialization time)), so the rate is exact whatever the timer granularity;
//   - delay line: it arrives rttMs / 2 after it left.
// A sender that has more than QUEUE_BYTES waiting on the link is paused (TCP back-pressure), so memory stays bounded.
// Listens on 127.0.0.1 only.
import { createServer, connect } from 'node:net';

/** Token bucket depth: bytes that may leave at once after the link was idle. */
export const BURST_BYTES = 16 * 1024;
/** Chunks are cut to this size so delivery is smooth (a 64 KB socket read does not arrive in one lump). */
const PIECE_BYTES = 8 * 1024;
/** Bytes one sender may have queued on the link before it is paused. */
const QUEUE_BYTES = 256 * 1024;

/** Parses `20mbit,40ms` (also kbit, gbit, bare bits per second; `ms` or `s` for the round trip). */
export function parseLink(spec) {
  const m = /^\s*([\d.]+)\s*(k|m|g)?bit\s*,\s*([\d.]+)\s*(ms|s)\s*$/i.exec(spec ?? '');
  if (!m) throw new Error(`STACKSEG_E2E_LINK="${spec}" is not like "20mbit,40ms" (bandwidth in kbit/mbit/gbit, round trip in ms)`);
  const scale = { k: 1e3, m: 1e6, g: 1e9 }[(m[2] ?? '').toLowerCase()] ?? 1;
  const bitsPerSecond = Number(m[1]) * scale;
  const rttMs = Number(m[3]) * (m[4].toLowerCase() === 's' ? 1000 : 1);
  if (!(bitsPerSecond > 0) || !(rttMs >= 0)) throw new Error(`STACKSEG_E2E_LINK="${spec}": bandwidth must be > 0 and round trip >= 0`);
  return { bitsPerSecond, rttMs };
}

/** One direction of the link: a token bucket feeding a delay line, shared by every connection. */
class Lane {
  constructor(bytesPerMs, delayMs) {
    this.bytesPerMs = bytesPerMs;
    this.delayMs = delayMs;
    this.lastDeparture = 0;
    this.line = []; // { at, dest, buf, pipe } in arrival order
    this.timer = undefined;
    this.bytes = 0; // delivered, for stats
  }

  send(pipe, buf) {
    for (let o = 0; o < buf.length; o += PIECE_BYTES) {
      const piece = buf.subarray(o, Math.min(buf.length, o + PIECE_BYTES));
      const now = performance.now();
      const start = Math.max(this.lastDeparture, now - BURST_BYTES / this.bytesPerMs);
      this.lastDeparture = Math.max(now, start + piece.length / this.bytesPerMs); // tokens let it go now, never earlier
      this.line.push({ at: this.lastDeparture + this.delayMs, pipe, buf: piece });
    }
    this.arm();
  }

  arm() {
    if (this.timer || this.line.length === 0) return;
    const wait = Math.max(0, this.line[0].at - performance.now());
    this.timer = setTimeout(() => { this.timer = undefined; this.deliver(); }, wait);
  }

  deliver() {
    const now = performance.now();
    while (this.line.length > 0 && this.line[0].at <= now + 0.5) {
      const { pipe, buf } = this.line.shift();
      this.bytes += buf.length;
      pipe.arrived(buf);
    }
    this.arm();
  }

  close() { clearTimeout(this.timer); this.timer = undefined; this.line.length = 0; }
}

/** One connection's one direction: reads `from`, sends through `lane`, writes `to`. */
class Pipe {
  constructor(from, to, lane) {
    this.from = from;
    this.to = to;
    this.lane = lane;
    this.queued = 0;
    this.ended = false;
    from.on('data', (buf) => {
      this.queued += buf.length;
      lane.send(this, buf);
      if (this.queued > QUEUE_BYTES) from.pause();
    });
    from.on('end', () => { this.ended = true; this.maybeEnd(); });
  }

  arrived(buf) {
    this.queued -= buf.length;
    if (!this.to.destroyed) this.to.write(buf);
    if (this.queued <= QUEUE_BYTES / 2 && this.from.isPaused()) this.from.resume();
    this.maybeEnd();
  }

  /** Half-close after the last queued byte arrived (the other direction may still be talking). */
  maybeEnd() {
    if (this.ended && this.queued === 0 && !this.to.destroyed) this.to.end();
  }
}

/**
 * Starts the proxy. `target`: { host, port } of the real server. Resolves to
 * { port, url, bitsPerSecond, rttMs, stats(), close() }; close() ends every connection and stops listening.
 */
export function startSlowLink({ target, bitsPerSecond, rttMs }) {
  const bytesPerMs = bitsPerSecond / 8 / 1000;
  const up = new Lane(bytesPerMs, rttMs / 2);
  const down = new Lane(bytesPerMs, rttMs / 2);
  const sockets = new Set();
  let connections = 0;
  const server = createServer({ noDelay: true }, (client) => {
    connections++;
    const upstream = connect({ host: target.host ?? '127.0.0.1', port: target.port, noDelay: true });
    for (const s of [client, upstream]) {
      sockets.add(s);
      s.on('close', () => sockets.delete(s));
      s.on('error', () => { client.destroy(); upstream.destroy(); });
    }
    new Pipe(client, upstream, up);
    new Pipe(upstream, client, down);
  });
  return new Promise((resolve, reject) => {
    server.on('error', reject);
    server.listen(0, '127.0.0.1', () => {
      const { port } = server.address();
      resolve({
        port,
        url: `http://127.0.0.1:${port}`,
        bitsPerSecond,
        rttMs,
        stats: () => ({ connections, upBytes: up.bytes, downBytes: down.bytes }),
        close: () => new Promise((done) => {
          up.close();
          down.close();
          for (const s of sockets) s.destroy();
          server.close(() => done());
        }),
      });
    });
  });
}
