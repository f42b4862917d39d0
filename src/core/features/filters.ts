// Separable 2-D Gaussian-derivative filters on one slice (Float32Array, row-major, width*height).
//
// API
//   gaussianKernel1d(sigma, order, truncate = 4): Float32Array   kernel of length 2r+1, r = floor(truncate*sigma + 0.5)
//   convolveRows(src, w, h, kernel, dst?) / convolveColumns(src, w, h, kernel, dst?): Float32Array
//   gaussianSmooth(src, w, h, sigma, truncate?): Float32Array
//   gaussianDerivatives(src, w, h, sigma, truncate?): { g, gx, gy, gxx, gyy, gxy }
//   symmetricEigenvalues2(a, b, c, outLarge, outSmall)   eigenvalues of [[a, c], [c, b]] per pixel, larger first
//
// Conventions
// - Borders: scipy.ndimage mode 'reflect' (half-sample symmetric: d c b a | a b c d | d c b a), scipy's default for
//   gaussian_filter and what vigra/ilastik do, so the filter bank matches the Python reference at the borders.
// - Radius: floor(truncate * sigma + 0.5) with truncate = 4, as scipy.ndimage.gaussian_filter.
// - x = column index (fast axis), y = row index. Derivative kernels are convolution kernels: convolving f with the
//   order-1 kernel gives df/dx. Like vigra (and unlike scipy), derivative kernels are moment-corrected so they are
//   exact on polynomials: order 1 has sum(k(i) * i) = -1 in convolution form; order 2 has zero sum and
//   sum(k(i) * i^2) = 2. Without it, a sigma-0.7 sampled kernel gives a Laplacian of x^2 that is off by ~20 %.

/** 1-D sampled Gaussian (order 0), first derivative (1) or second derivative (2); index i = offset + radius. */
export function gaussianKernel1d(sigma: number, order: 0 | 1 | 2, truncate = 4): Float32Array {
  if (!(sigma > 0)) throw new RangeError(`sigma must be > 0, got ${sigma}`);
  const radius = Math.max(1, Math.floor(truncate * sigma + 0.5));
  const n = 2 * radius + 1;
  const phi = new Float64Array(n);
  let sum = 0;
  for (let i = -radius; i <= radius; i++) { const v = Math.exp((-0.5 * i * i) / (sigma * sigma)); phi[i + radius] = v; sum += v; }
  for (let i = 0; i < n; i++) phi[i] /= sum;
  const k = new Float64Array(n);
  if (order === 0) {
    k.set(phi);
  } else if (order === 1) {
    // d/dx of the Gaussian: -x/sigma^2 * phi(x); scale so that convolving f(x) = x gives exactly 1.
    let m = 0;
    for (let i = -radius; i <= radius; i++) { k[i + radius] = (-i / (sigma * sigma)) * phi[i + radius]; m += k[i + radius] * i; }
    const s = -1 / m;
    for (let i = 0; i < n; i++) k[i] *= s;
  } else {
    // (x^2/sigma^4 - 1/sigma^2) * phi(x); remove the mean (constant -> 0) and scale so that x^2 -> 2.
    let mean = 0;
    for (let i = -radius; i <= radius; i++) { k[i + radius] = ((i * i) / sigma ** 4 - 1 / (sigma * sigma)) * phi[i + radius]; mean += k[i + radius]; }
    mean /= n;
    let m2 = 0;
    for (let i = -radius; i <= radius; i++) { k[i + radius] -= mean; m2 += k[i + radius] * i * i; }
    const s = 2 / m2;
    for (let i = 0; i < n; i++) k[i] *= s;
  }
  return Float32Array.from(k);
}

/** Index of position p (may be outside [0, n)) under 'reflect' borders: d c b a | a b c d | d c b a. */
export function reflectIndex(p: number, n: number): number {
  if (n === 1) return 0;
  const period = 2 * n;
  let q = p % period;
  if (q < 0) q += period;
  return q < n ? q : period - 1 - q;
}

/** +1 if kernel[r + o] == kernel[r - o], -1 if kernel[r + o] == -kernel[r - o] (and centre 0), else 0. */
function kernelParity(k: Float32Array): 1 | -1 | 0 {
  const r = (k.length - 1) >> 1;
  let sym = true, anti = k[r] === 0;
  for (let o = 1; o <= r; o++) { if (k[r + o] !== k[r - o]) sym = false; if (k[r + o] !== -k[r - o]) anti = false; }
  return sym ? 1 : anti ? -1 : 0;
}

/** Convolution along x of every row: dst[y, x] = sum_o kernel[r + o] * src[y, x - o], o = -r..r. */
export function convolveRows(src: Float32Array, w: number, h: number, kernel: Float32Array, dst = new Float32Array(w * h)): Float32Array {
  const r = (kernel.length - 1) >> 1;
  const padded = new Float32Array(w + 2 * r);
  const parity = kernelParity(kernel);
  const kl = kernel.length;
  const kf = Float32Array.from(kernel).reverse(); // correlation form for the generic path
  const c = kernel[r];
  for (let y = 0; y < h; y++) {
    const row = y * w;
    for (let i = -r; i < w + r; i++) padded[i + r] = src[row + (i >= 0 && i < w ? i : reflectIndex(i, w))];
    if (parity !== 0) {
      // Symmetric / antisymmetric kernels: half the multiplications. padded[x + r - o] = src[x - o].
      for (let x = 0; x < w; x++) {
        const m = x + r;
        let acc = c * padded[m];
        if (parity === 1) for (let o = 1; o <= r; o++) acc += kernel[r + o] * (padded[m - o] + padded[m + o]);
        else for (let o = 1; o <= r; o++) acc += kernel[r + o] * (padded[m - o] - padded[m + o]);
        dst[row + x] = acc;
      }
    } else {
      for (let x = 0; x < w; x++) {
        let acc = 0;
        for (let j = 0; j < kl; j++) acc += kf[j] * padded[x + j];
        dst[row + x] = acc;
      }
    }
  }
  return dst;
}

/** Convolution along y of every column, done row-by-row so memory is read sequentially. */
export function convolveColumns(src: Float32Array, w: number, h: number, kernel: Float32Array, dst = new Float32Array(w * h)): Float32Array {
  const r = (kernel.length - 1) >> 1;
  const kl = kernel.length;
  const parity = kernelParity(kernel);
  const rowAt = (yy: number) => (yy >= 0 && yy < h ? yy : reflectIndex(yy, h)) * w;
  for (let y = 0; y < h; y++) {
    const out = y * w;
    if (parity !== 0) {
      const c = kernel[r], s0 = rowAt(y);
      for (let x = 0; x < w; x++) dst[out + x] = c * src[s0 + x];
      for (let o = 1; o <= r; o++) {
        const ko = kernel[r + o], a = rowAt(y - o), b = rowAt(y + o);
        if (parity === 1) for (let x = 0; x < w; x++) dst[out + x] += ko * (src[a + x] + src[b + x]);
        else for (let x = 0; x < w; x++) dst[out + x] += ko * (src[a + x] - src[b + x]);
      }
      continue;
    }
    for (let j = 0; j < kl; j++) {
      const srcRow = rowAt(y - (j - r));
      const kj = kernel[j];
      if (j === 0) for (let x = 0; x < w; x++) dst[out + x] = kj * src[srcRow + x];
      else for (let x = 0; x < w; x++) dst[out + x] += kj * src[srcRow + x];
    }
  }
  return dst;
}

/** Isotropic Gaussian smoothing with reflect borders. */
export function gaussianSmooth(src: Float32Array, w: number, h: number, sigma: number, truncate = 4): Float32Array {
  const k = gaussianKernel1d(sigma, 0, truncate);
  return convolveColumns(convolveRows(src, w, h, k), w, h, k);
}

export interface GaussianDerivatives { g: Float32Array; gx: Float32Array; gy: Float32Array; gxx: Float32Array; gyy: Float32Array; gxy: Float32Array }

/** Smoothed image and its first and second Gaussian derivatives at one scale (3 row passes, 6 column passes). */
export function gaussianDerivatives(src: Float32Array, w: number, h: number, sigma: number, truncate = 4): GaussianDerivatives {
  const k0 = gaussianKernel1d(sigma, 0, truncate);
  const k1 = gaussianKernel1d(sigma, 1, truncate);
  const k2 = gaussianKernel1d(sigma, 2, truncate);
  const r0 = convolveRows(src, w, h, k0);
  const r1 = convolveRows(src, w, h, k1);
  const r2 = convolveRows(src, w, h, k2);
  return {
    g: convolveColumns(r0, w, h, k0),
    gy: convolveColumns(r0, w, h, k1),
    gyy: convolveColumns(r0, w, h, k2),
    gx: convolveColumns(r1, w, h, k0),
    gxy: convolveColumns(r1, w, h, k1),
    gxx: convolveColumns(r2, w, h, k0),
  };
}

/** Eigenvalues of the symmetric 2x2 matrices [[a, c], [c, b]], larger into outLarge, smaller into outSmall. */
export function symmetricEigenvalues2(a: Float32Array, b: Float32Array, c: Float32Array, outLarge: Float32Array, outSmall: Float32Array): void {
  for (let i = 0; i < a.length; i++) {
    const half = 0.5 * (a[i] + b[i]);
    const d = 0.5 * (a[i] - b[i]);
    const root = Math.sqrt(d * d + c[i] * c[i]);
    outLarge[i] = half + root;
    outSmall[i] = half - root;
  }
}
