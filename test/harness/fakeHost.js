// Stands in for the extension host inside the browser harness: implements acquireVsCodeApi() and answers
// the viewer's protocol with synthetic slices. Configured by the page URL:
//   ?w=256&h=256&d=32&dtype=float32   stack shape
//   &error=1                          send an 'error' instead of 'init' (bad file)
//   &delay=5                          ms before each slice reply (IPC stand-in)
//   &prewarm=1                        generate the synthetic slices before 'init' (so timings measure the viewer)
(function () {
  const q = new URLSearchParams(location.search);
  const w = Number(q.get('w') || 256);
  const h = Number(q.get('h') || 256);
  const d = Number(q.get('d') || 32);
  const dtype = q.get('dtype') || 'float32';
  const delay = Number(q.get('delay') || 5);
  const Ctors = { uint8: Uint8Array, int8: Int8Array, uint16: Uint16Array, int16: Int16Array, uint32: Uint32Array, int32: Int32Array, float32: Float32Array, float64: Float64Array };
  const scale = { uint8: 250, int8: 120, uint16: 60000, int16: 30000, uint32: 1e6, int32: 1e6, float32: 1, float64: 1 }[dtype];
  const distinct = 8; // a few distinct slices suffice; generating 2048x2048 per z would dominate the harness
  const generated = new Map();
  let state;
  window.__harness = { received: [], requests: [] };

  // Foam-like phantom: bright walls between cells whose centres drift with z, plus noise.
  function makeSlice(z) {
    const key = z % distinct;
    if (generated.has(key)) return generated.get(key);
    const out = new Ctors[dtype](w * h);
    const cells = [];
    let seed = 12345;
    const rnd = () => ((seed = (seed * 1103515245 + 12345) & 0x7fffffff) / 0x7fffffff);
    const n = 40;
    for (let i = 0; i < n; i++) cells.push([rnd() * w, rnd() * h, (rnd() - 0.5) * 0.02 * w, (rnd() - 0.5) * 0.02 * h]);
    const pts = cells.map(([x, y, vx, vy]) => [x + vx * key, y + vy * key]);
    for (let y = 0; y < h; y++) {
      for (let x = 0; x < w; x++) {
        let d1 = Infinity, d2 = Infinity;
        for (let i = 0; i < n; i++) {
          const dx = x - pts[i][0], dy = y - pts[i][1];
          const dd = dx * dx + dy * dy;
          if (dd < d1) { d2 = d1; d1 = dd; } else if (dd < d2) d2 = dd;
        }
        const gap = Math.sqrt(d2) - Math.sqrt(d1);
        const wall = Math.exp(-(gap * gap) / (2 * (w / 256) * (w / 256) * 4));
        const noise = (rnd() - 0.5) * 0.12;
        let v = 0.18 + 0.62 * wall + noise + 0.1 * (x / w);
        v = Math.min(1, Math.max(0, v));
        out[y * w + x] = dtype.startsWith('float') ? v : Math.round(v * scale);
      }
    }
    generated.set(key, out);
    return out;
  }

  function toViewer(msg, transfer) {
    window.postMessage(msg, '*', transfer || []);
  }

  window.acquireVsCodeApi = function () {
    return {
      getState: () => state,
      setState: (s) => { state = s; },
      postMessage(msg) {
        if (msg.type === 'ready') {
          if (q.get('error')) {
            toViewer({ type: 'error', message: '/data/scan/notastack.tif: not a TIFF file (the first bytes are "%PDF", not "II*\\0" or "MM\\0*") — export the stack as TIFF from ImageJ/Fiji or tifffile' });
          } else {
            if (q.get('prewarm')) for (let z = 0; z < Math.min(d, distinct); z++) makeSlice(z);
            toViewer({ type: 'init', info: { width: w, height: h, depth: d, dtype, fileName: 'sample.tif' }, initialSlice: 0 });
          }
        } else if (msg.type === 'requestSlice') {
          window.__harness.requests.push(msg);
          setTimeout(() => {
            const px = makeSlice(msg.z);
            // A fresh copy per reply (the host reads a fresh array per request), transferred into the page as
            // VS Code's webview frame transfers ArrayBuffers.
            const data = px.buffer.slice(0);
            toViewer({ type: 'slice', z: msg.z, width: w, height: h, dtype, data }, [data]);
          }, delay);
        } else if (msg.type === 'sliceShown') {
          window.__harness.received.push(msg.z);
        }
      },
    };
  };
})();
