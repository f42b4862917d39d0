"""Reference timing for bench/rf_speed.mjs: scipy filter bank (the same 41 features) + scikit-learn
RandomForestClassifier (30 trees, depth 8) trained on slice 0's sparse labels, then segment all slices.
Run with Debian's python: /usr/bin/python3 bench/rf_ref.py [--data DIR] [--variant hq] [--jobs -1]
Prints one JSON line: {"features_s", "train_s", "segment_s", "total_s", "f1"}; the stack is read before timing."""
import argparse, json, time
import numpy as np
import tifffile
from scipy import ndimage as ndi
from sklearn.ensemble import RandomForestClassifier

SIGMAS = [0.7, 1.0, 1.6, 3.5, 5.0]


def eig2(a, b, c):
    half = 0.5 * (a + b)
    root = np.sqrt((0.5 * (a - b)) ** 2 + c * c)
    return half + root, half - root


def features(img):
    img = img.astype(np.float32)
    out = [img]
    for s in SIGMAS:
        g = ndi.gaussian_filter(img, s)
        gx = ndi.gaussian_filter(img, s, order=(0, 1))
        gy = ndi.gaussian_filter(img, s, order=(1, 0))
        gxx = ndi.gaussian_filter(img, s, order=(0, 2))
        gyy = ndi.gaussian_filter(img, s, order=(2, 0))
        gxy = ndi.gaussian_filter(img, s, order=(1, 1))
        out += [g, np.hypot(gx, gy), gxx + gyy, g - ndi.gaussian_filter(img, 0.66 * s)]
        out += list(eig2(gxx, gyy, gxy))
        o = 0.5 * s
        out += list(eig2(ndi.gaussian_filter(gx * gx, o), ndi.gaussian_filter(gy * gy, o), ndi.gaussian_filter(gx * gy, o)))
    return np.stack(out, axis=-1).reshape(-1, len(out))


def main():
    ap = argparse.ArgumentParser()
    ap.add_argument('--data', default='/work/shared/data/foam')
    ap.add_argument('--variant', default='hq')
    ap.add_argument('--jobs', type=int, default=-1)
    ap.add_argument('--seed', type=int, default=0)
    a = ap.parse_args()
    stack = tifffile.imread(f'{a.data}/{a.variant}.tif')
    labels = tifffile.imread(f'{a.data}/sparse_labels_slice0.tif').ravel()
    truth = tifffile.imread(f'{a.data}/truth.tif')
    lo, hi = np.percentile(stack[:: max(1, len(stack) // 8)], [0.5, 99.5])
    stack = (stack - lo) / (hi - lo)
    t0 = time.perf_counter()
    f0 = features(stack[0])
    t1 = time.perf_counter()
    m = labels > 0
    rf = RandomForestClassifier(n_estimators=30, max_depth=8, n_jobs=a.jobs, random_state=a.seed).fit(f0[m], labels[m])
    t2 = time.perf_counter()
    f1s = []
    for z in range(len(stack)):
        pred = rf.predict(f0 if z == 0 else features(stack[z])).reshape(stack.shape[1:])
        t = truth[z] == 1
        p = pred == 2
        f1s.append(2 * (p & t).sum() / max(1, p.sum() + t.sum()))
    t3 = time.perf_counter()
    print(json.dumps({'features_s': t1 - t0, 'train_s': t2 - t1, 'segment_s': t3 - t2, 'total_s': t3 - t0, 'f1': float(np.mean(f1s)), 'jobs': a.jobs}))


if __name__ == '__main__':
    main()
