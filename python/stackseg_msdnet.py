"""StackSeg MSDNet on PyTorch (CUDA, Apple MPS or CPU): the torch backend of src/core/models/msdnet/torchBackend.ts.

The same network, loss, optimizer, augmentation plan, learning-rate schedule and BatchNorm handling as the native
path (src/core/models/msdnet/msdnet.ts, msdnet/native.ts), and the same model folder (model.json + weights.bin of
little-endian float32, tfjs weight layout) so that a model trained here segments with the native path and back.
Needs only torch and numpy. Run by the CLI with the user's Python, never through a shell.

  stackseg_msdnet.py probe                 one JSON line: python, torch, CUDA, devices (exit 3 without torch)
  stackseg_msdnet.py train WORKDIR         WORKDIR/request.json + images.f32, targets.f32, plan.i32, init/ -> out/;
                                           JSON lines on stdout: start, epoch, done (or error)
  stackseg_msdnet.py serve MODELDIR DEVICE binary frames on stdin/stdout (see serve()); JSON lines on stderr

SIGTERM stops at once (the default action); the CLI removes the work folder.
"""
import json
import math
import os
import struct
import sys
import time

try:
    import numpy as np
except ImportError as e:  # reported as one clear line by the CLI
    print(json.dumps({'event': 'error', 'code': 'no-numpy', 'message': f'numpy is not installed in {sys.executable}: {e}'}), flush=True)
    sys.exit(3)
try:
    import torch
    import torch.nn.functional as F
except ImportError as e:
    print(json.dumps({'event': 'error', 'code': 'no-torch', 'message': f'torch is not installed in {sys.executable}: {e}'}), flush=True)
    sys.exit(3)

FORMAT = 'stackseg-msdnet'
BN_EPSILON = 1e-5
BATCHNORM_MOMENTUM = 0.1


class Fail(Exception):
    def __init__(self, code, message):
        super().__init__(message)
        self.code = code


def emit(event, stream=sys.stdout, **fields):
    stream.write(json.dumps({'event': event, **fields}) + '\n')
    stream.flush()


# ---------------------------------------------------------------- device

def versions():
    cuda = torch.cuda.is_available()
    mps = bool(getattr(torch.backends, 'mps', None)) and torch.backends.mps.is_available()
    return {'python': sys.version.split()[0], 'executable': sys.executable, 'torch': torch.__version__,
            'cuda': torch.version.cuda, 'cudaAvailable': cuda, 'mps': mps,
            'devices': [torch.cuda.get_device_name(i) for i in range(torch.cuda.device_count())] if cuda else []}


def pick_device(name):
    """'auto': CUDA, then MPS, then CPU. 'cuda' / 'cuda:N' / 'mps' fail with one message when absent."""
    v = versions()
    if name in (None, '', 'auto'):
        name = 'cuda:0' if v['cudaAvailable'] else 'mps' if v['mps'] else 'cpu'
    if name.startswith('cuda'):
        if not v['cudaAvailable']:
            why = 'a CPU-only build of torch' if v['cuda'] is None else f'built for CUDA {v["cuda"]}, but no GPU or driver is visible'
            raise Fail('no-cuda', f'device={name} but torch {v["torch"]} sees no CUDA GPU ({why})')
        index = int(name.split(':')[1]) if ':' in name else 0
        if index >= torch.cuda.device_count():
            raise Fail('no-cuda', f'device={name} but torch sees {torch.cuda.device_count()} GPU(s): {", ".join(v["devices"])}')
        name = f'cuda:{index}'
    elif name == 'mps' and not v['mps']:
        raise Fail('no-mps', f'device=mps but torch {v["torch"]} has no Apple MPS device here')
    elif name not in ('cpu', 'mps'):
        raise Fail('bad-device', f'unknown device "{name}" (use auto, cpu, cuda, cuda:N or mps)')
    dev = torch.device(name)
    info = {**v, 'device': name, 'gpu': torch.cuda.get_device_name(dev) if dev.type == 'cuda' else None}
    return dev, info


# ---------------------------------------------------------------- model folder (io.ts's format)

def weight_names(arch):
    names = []
    for i in range(arch['layers']):
        names += [f'layer{i}/filter', f'layer{i}/bias', f'layer{i}/bn_gamma', f'layer{i}/bn_beta', f'layer{i}/bn_mean', f'layer{i}/bn_var']
    return names + ['out/filter', 'out/bias']


def load_model(folder):
    path = os.path.join(folder, 'model.json')
    with open(path, encoding='utf-8') as f:
        meta = json.load(f)
    if meta.get('format') != FORMAT:
        raise Fail('bad-model', f'{path} is not a StackSeg MSDNet model')
    group = meta['weightsManifest'][0]
    flat = np.fromfile(os.path.join(folder, group['paths'][0]), dtype='<f4')
    weights, offset = {}, 0
    for entry in group['weights']:
        size = int(np.prod(entry['shape']))
        weights[entry['name']] = flat[offset:offset + size].reshape(entry['shape']).copy()
        offset += size
    if offset != flat.size or set(weights) != set(weight_names(meta['modelTopology']['arch'])):
        raise Fail('bad-model', f'the weights of {folder} do not fit its architecture')
    return meta, weights


def save_model(folder, meta, weights, generated_by, training_info):
    """Writes model.json + weights.bin under temporary names and renames (as io.ts's writeFileAtomic)."""
    os.makedirs(folder, exist_ok=True)
    names = weight_names(meta['modelTopology']['arch'])
    blob = b''.join(np.ascontiguousarray(weights[n], dtype='<f4').tobytes() for n in names)
    manifest = [{'paths': ['weights.bin'], 'weights': [{'name': n, 'shape': list(weights[n].shape), 'dtype': 'float32'} for n in names]}]
    out = {'format': FORMAT, 'generatedBy': generated_by, 'convertedBy': None, 'modelTopology': meta['modelTopology'],
           'weightsManifest': manifest, 'trainingInfo': training_info}
    for name, data in (('weights.bin', blob), ('model.json', (json.dumps(out, indent=2) + '\n').encode())):
        tmp = os.path.join(folder, f'.{name}.tmp-{os.getpid()}')
        with open(tmp, 'wb') as f:
            f.write(data)
        os.replace(tmp, os.path.join(folder, name))


# ---------------------------------------------------------------- network (network.ts's graph)

class Net:
    """Tensors in torch layout: filter [3,3,cin,w] (tfjs HWIO) -> [w,cin,3,3]; out [channels,classes] -> [classes,channels,1,1]."""

    def __init__(self, arch, weights, device):
        self.arch = arch
        t = lambda a: torch.tensor(np.asarray(a, dtype=np.float32), device=device)
        L = arch['layers']
        self.filters = [t(weights[f'layer{i}/filter']).permute(3, 2, 0, 1).contiguous().requires_grad_() for i in range(L)]
        self.biases = [t(weights[f'layer{i}/bias']).requires_grad_() for i in range(L)]
        self.gammas = [t(weights[f'layer{i}/bn_gamma']).requires_grad_() for i in range(L)]
        self.betas = [t(weights[f'layer{i}/bn_beta']).requires_grad_() for i in range(L)]
        self.means = [t(weights[f'layer{i}/bn_mean']) for i in range(L)]
        self.vars = [t(weights[f'layer{i}/bn_var']) for i in range(L)]
        self.out_filter = t(weights['out/filter']).t().reshape(arch['classes'], -1, 1, 1).contiguous().requires_grad_()
        self.out_bias = t(weights['out/bias']).requires_grad_()

    def trainable(self):
        """tfjs trainableVariables order (Adam state is per tensor, so the order only matters for reading)."""
        return self.filters + self.biases + self.gammas + self.betas + [self.out_filter, self.out_bias]

    def dilation(self, i):
        d = self.arch['dilations']
        return int(d[i % len(d)])

    def forward(self, x, batch_stats, moments=None):
        """x [N,C,H,W] (C = arch inChannels, 2k+1 for 2.5-D) -> logits [N,classes,H,W]. batch_stats: BatchNorm with this batch's mean and biased variance."""
        feats = x
        for i in range(self.arch['layers']):
            d = self.dilation(i)
            y = F.conv2d(feats, self.filters[i], self.biases[i], padding=d, dilation=d)
            if batch_stats:
                mean = y.mean(dim=(0, 2, 3))
                var = y.var(dim=(0, 2, 3), unbiased=False)
                if moments is not None:
                    moments.append((mean.detach(), var.detach()))
            else:
                mean, var = self.means[i], self.vars[i]
            scale = torch.rsqrt(var + BN_EPSILON) * self.gammas[i]
            y = (y - mean.view(1, -1, 1, 1)) * scale.view(1, -1, 1, 1) + self.betas[i].view(1, -1, 1, 1)
            feats = torch.cat([feats, torch.relu(y)], 1)
        return F.conv2d(feats, self.out_filter, self.out_bias)

    def export(self):
        a = lambda v: v.detach().cpu().numpy().astype(np.float32)
        w = {}
        for i in range(self.arch['layers']):
            w[f'layer{i}/filter'] = a(self.filters[i].permute(2, 3, 1, 0))
            w[f'layer{i}/bias'], w[f'layer{i}/bn_gamma'], w[f'layer{i}/bn_beta'] = a(self.biases[i]), a(self.gammas[i]), a(self.betas[i])
            w[f'layer{i}/bn_mean'], w[f'layer{i}/bn_var'] = a(self.means[i]), a(self.vars[i])
        w['out/filter'] = a(self.out_filter.reshape(self.arch['classes'], -1).t())
        w['out/bias'] = a(self.out_bias)
        return w


def dihedral(x, k):
    """augment.ts's dihedral(k) on the last two axes: bit 2 mirrors left-right, then k&3 clockwise quarter turns."""
    if k & 4:
        x = torch.flip(x, (-1,))
    return torch.rot90(x, -(k & 3), (-2, -1)) if k & 3 else x


def undo_dihedral(x, k):
    if k & 3:
        x = torch.rot90(x, k & 3, (-2, -1))
    return torch.flip(x, (-1,)) if k & 4 else x


ALL_TRANSFORMS = [0, 1, 2, 3, 4, 5, 6, 7]


def shape_groups(ks, h, w):
    """Transforms whose copies share a shape: all of them for a square slice, else split by k parity (odd k swap h, w)."""
    if h == w:
        return [list(ks)]
    return [g for g in ([k for k in ks if k % 2 == 0], [k for k in ks if k % 2 == 1]) if g]


def recompute_batchnorm(net, images, device, transforms=ALL_TRANSFORMS):
    """batchnorm.ts's recomputeBatchNorm: statistics of the final network over the copies (augment's transforms) of
    every slice."""
    L = net.arch['layers']
    sum_mean = np.zeros((L, net.arch['width'])); sum_sq = np.zeros_like(sum_mean); pixels = 0
    with torch.no_grad():
        for img in images:
            h, w = img.shape[-2:]
            x = torch.tensor(img, device=device).view(1, -1, h, w)  # 2.5-D: [C, h, w] -> 1 x C planes
            for ks in shape_groups(transforms, h, w):
                moments = []
                net.forward(torch.cat([dihedral(x, k) for k in ks], 0), True, moments)
                n = len(ks) * h * w
                for i, (m, v) in enumerate(moments):
                    m, v = m.double().cpu().numpy(), v.double().cpu().numpy()
                    sum_mean[i] += m * n
                    sum_sq[i] += (v + m * m) * n
                pixels += n
    for i in range(L):
        mean = sum_mean[i] / pixels
        net.means[i] = torch.tensor(mean, dtype=torch.float32, device=device)
        net.vars[i] = torch.tensor(np.maximum(0, sum_sq[i] / pixels - mean * mean), dtype=torch.float32, device=device)


# ---------------------------------------------------------------- training

def crop_grid(w, h, crop):
    """schedule.ts cropGrid: (crop width, crop height) of a slice larger than crop (0 = never), else None."""
    if not crop or crop <= 0 or (w <= crop and h <= crop):
        return None
    return min(w, crop), min(h, crop)


def batchnorm_region(w, h, crop):
    """schedule.ts batchNormRegion: (x, y, w, h), the centre at most 2 x crop (1024) each way of a slice that trains
    on crops, at most 1024 each way of any slice above 1024² pixels, else the whole slice."""
    crops = crop_grid(w, h, crop) is not None
    if not crops and w * h <= 1 << 20:
        return 0, 0, w, h
    side = min(2 * crop, 1024) if crops else 1024
    cw, ch = min(w, side), min(h, side)
    return (w - cw) >> 1, (h - ch) >> 1, cw, ch


class Schedule:
    """schedule.ts's EpochSchedule: cosine (or constant) learning rate over planned epochs that shrink to fit the time
    budget, and a plateau stop. Keep the two in step."""

    def __init__(self, r):
        self.max_epochs = self.planned = int(r['epochs'])
        self.lr0, self.cosine = float(r['learningRate']), r['lrSchedule'] == 'cosine'
        self.max_seconds, self.plateau = float(r.get('maxSeconds') or 0), bool(r.get('plateau'))
        self.losses, self.elapsed, self.reason = [], [], 'epochs'
        self.anneal = None  # on a plateau: (first epoch, rate then, most epochs)

    def lr(self, epoch):
        if self.anneal:
            start, lr, _ = self.anneal
            return lr * 0.5 * (1 + math.cos(math.pi * (epoch - start + 0.5) / (self.planned - start)))
        return self.lr0 * 0.5 * (1 + math.cos(math.pi * epoch / self.planned)) if self.cosine else self.lr0

    def over_budget(self, elapsed):
        """schedule.ts overBudget: the budget is spent (checked after every step)."""
        return self.max_seconds > 0 and elapsed >= self.max_seconds

    def after_epoch(self, loss, elapsed):
        """True to stop after this epoch."""
        self.losses.append(loss)
        self.elapsed.append(elapsed)
        e = len(self.losses)
        if e >= self.planned:
            return True
        if self.max_seconds > 0:
            if elapsed >= self.max_seconds:
                self.reason = 'time budget'
                return True
            if e >= 5:  # seconds per epoch over the last (up to) 10 epochs, the first (warm-up) left out; re-planned both ways
                k = min(10, e - 1)
                rate = (elapsed - self.elapsed[e - 1 - k]) / k
                fit = e + math.floor((self.max_seconds - elapsed) / rate) if rate > 0 else self.max_epochs
                most = self.anneal[0] + self.anneal[2] if self.anneal else self.max_epochs
                self.planned = max(e + 1, min(most, fit))
                if not self.anneal:
                    self.reason = 'time budget' if self.planned < self.max_epochs else 'epochs'
        if self.plateau and not self.anneal:
            window = max(20, self.max_epochs // 10)
            if e >= max(60, 2 * window):
                recent = sum(self.losses[-window:]) / window
                before = sum(self.losses[-2 * window:-window]) / window
                if before - recent < 0.01 * before:  # anneal to 0 over half a window, then stop
                    self.reason = 'plateau'
                    epochs = max(1, window // 2)
                    self.anneal = (e, self.lr(e), epochs)
                    self.planned = min(self.planned, e + epochs)
        return False


def train(workdir):
    with open(os.path.join(workdir, 'request.json'), encoding='utf-8') as f:
        r = json.load(f)
    device, info = pick_device(r.get('device'))
    if r.get('threads'):
        torch.set_num_threads(int(r['threads']))
    emit('start', **info)
    meta, weights = load_model(os.path.join(workdir, 'init'))
    arch = meta['modelTopology']['arch']
    classes = arch['classes']
    images_flat = np.fromfile(os.path.join(workdir, 'images.f32'), dtype='<f4')
    targets_flat = np.fromfile(os.path.join(workdir, 'targets.f32'), dtype='<f4')
    plan = np.fromfile(os.path.join(workdir, 'plan.i32'), dtype='<i4').reshape(-1, 4)  # slice, k, crop x, crop y
    images, targets, o1, o2 = [], [], 0, 0
    channels = int(arch.get('inChannels', 1))  # 2.5-D: 2k+1 input planes per slice, channel-major
    for s in r['slices']:
        n = s['width'] * s['height']
        images.append(images_flat[o1:o1 + n * channels].reshape(channels, s['height'], s['width'])); o1 += n * channels
        targets.append(torch.tensor(targets_flat[o2:o2 + n * classes].reshape(s['height'], s['width'], classes), device=device).permute(2, 0, 1).contiguous()); o2 += n * classes
    xs = [torch.tensor(img, device=device).view(1, *img.shape) for img in images]
    net = Net(arch, weights, device)
    params = net.trainable()
    opt = torch.optim.Adam(params, lr=r['learningRate'], betas=(0.9, 0.999), eps=1e-7) if r['optimizer'] == 'adam' \
        else torch.optim.SGD(params, lr=r['learningRate'])
    schedule, steps, losses = Schedule(r), 0, []
    n_slices = len(images)
    crop = int(r.get('cropSize') or 0)
    grids = [crop_grid(s['width'], s['height'], crop) for s in r['slices']]
    n_steps = int(r.get('stepsPerEpoch') or n_slices)
    halo = sum(arch['dilations'][l % len(arch['dilations'])] for l in range(arch['layers']))  # msdnet.ts receptiveRadius
    started = time.perf_counter()
    for epoch in range(schedule.max_epochs):
        lr = schedule.lr(epoch)
        for g in opt.param_groups:
            g['lr'] = lr
        epoch_loss = torch.zeros((), device=device)
        done = counted = 0  # steps of this epoch (schedule.ts overBudget: the budget ends a long epoch), those with a loss
        for j in range(n_steps):
            if done > 0 and schedule.over_budget(time.perf_counter() - started):
                break
            done += 1
            i, k, x0, y0 = (int(v) for v in plan[epoch * n_steps + j])
            g = grids[i]
            if g is None:
                x, target, denominator = xs[i], targets[i], r['denominators'][i]
            else:  # schedule.ts cropCore / cropInputRegion: the crop's part inside the slice plus a receptive-radius
                # halo, the loss on that core alone over the slice's weight scaled to a crop; no labelled pixel: no step (msdnet.ts)
                w, h = r['slices'][i]['width'], r['slices'][i]['height']
                cx, cy = max(0, x0), max(0, y0)
                cx1, cy1 = min(w, x0 + g[0]), min(h, y0 + g[1])
                ax, ay, bx, by = max(0, cx - halo), max(0, cy - halo), min(w, cx1 + halo), min(h, cy1 + halo)
                x = xs[i][..., ay:by, ax:bx]
                target = torch.zeros_like(targets[i][:, ay:by, ax:bx])
                target[:, cy - ay:cy1 - ay, cx - ax:cx1 - ax] = targets[i][:, cy:cy1, cx:cx1]
                if not float(target.sum()) > 0:
                    continue
                denominator = r['denominators'][i] * g[0] * g[1] / (w * h)
            counted += 1
            moments = []
            opt.zero_grad(set_to_none=True)
            logits = net.forward(dihedral(x, k), True, moments)
            target = dihedral(target, k)
            loss = -(target * F.log_softmax(logits[0], 0)).sum() / denominator
            loss.backward()
            opt.step()
            with torch.no_grad():
                for l, (m, v) in enumerate(moments):  # the EMA of updateRunningStats, biased variance as native.ts
                    net.means[l] += BATCHNORM_MOMENTUM * (m - net.means[l])
                    net.vars[l] += BATCHNORM_MOMENTUM * (v - net.vars[l])
                epoch_loss += loss.detach()
            steps += 1
        value = float(epoch_loss) / counted if counted else 0.0  # one device sync per epoch; the mean over the steps with a loss
        losses.append(value)
        elapsed = time.perf_counter() - started
        stop = schedule.after_epoch(value, elapsed)
        emit('epoch', epoch=epoch + 1, loss=value, lr=lr, seconds=elapsed, planned=schedule.planned)
        if stop:
            break
    if r.get('bnRecompute', True):
        regions = [batchnorm_region(s['width'], s['height'], crop) for s in r['slices']]
        recompute_batchnorm(net, [img[..., y:y + h, x:x + w] for img, (x, y, w, h) in zip(images, regions)], device, r.get('transforms') or ALL_TRANSFORMS)
    seconds = time.perf_counter() - started
    training_info = {'losses': losses, 'seconds': seconds, 'steps': steps, 'labelledPixels': r.get('labelledPixels', []),
                     'engine': 'torch', 'device': info['device'], 'stopped': schedule.reason}
    save_model(os.path.join(workdir, 'out'), meta, net.export(), f'StackSeg MSDNet (torch {torch.__version__}, trained on {info["device"]})', training_info)
    emit('done', epochs=len(losses), seconds=seconds, steps=steps, stopped=schedule.reason)


# ---------------------------------------------------------------- inference

HEADER = struct.Struct('<4i')  # width, height, flags (1 = tta, 2 = probabilities), input planes (0 or 1: one slice;
# more: stack channels x 2k+1 slices, channel-major as inputPlanes.ts)


def read_exact(stream, n):
    chunks, got = [], 0
    while got < n:
        b = stream.read(n - got)
        if not b:
            return None
        chunks.append(b); got += len(b)
    return b''.join(chunks)


def predict(net, norm, raw, tta, device, transforms=ALL_TRANSFORMS):
    """MsdnetModel.predict: normalise as augment.ts's normalize, softmax averaged over the model's transforms (tta).
    raw [planes, h, w]: several stack channels (norm['channels']) are inputPlanes.ts's order, channel c's 2k+1
    slices together, each channel with its own low/high."""
    norms = norm.get('channels') or [norm]
    raw = raw.reshape(-1, *raw.shape[-2:])
    per = max(1, raw.shape[0] // len(norms))
    x = np.empty(raw.shape, np.float64)
    for i in range(raw.shape[0]):
        n = norms[min(i // per, len(norms) - 1)]
        x[i] = (raw[i].astype(np.float64) - n['low']) * (1.0 / (n['high'] - n['low']))
    x = np.where(np.isfinite(x), x, 0).astype(np.float32)
    h, w = x.shape[-2:]
    t = torch.tensor(x, device=device).view(1, -1, h, w)  # [C, h, w] planes (2.5-D) or one [h, w] slice
    ks = list(transforms) if tta else [0]
    # Copies of one shape go through in one batch (running BatchNorm statistics: batching changes nothing),
    # at most ~32 M pixels at a time.
    groups = shape_groups(ks, h, w)
    per = max(1, (1 << 25) // (h * w))
    total = None
    with torch.no_grad():
        for g in groups:
            for c in range(0, len(g), per):
                chunk = g[c:c + per]
                p = torch.softmax(net.forward(torch.cat([dihedral(t, k) for k in chunk], 0), False), 1)
                for j, k in enumerate(chunk):
                    q = undo_dihedral(p[j:j + 1], k)
                    total = q if total is None else total + q
    return (total / len(ks))[0]


def serve(folder, device_name):
    """Per request: HEADER then width*height float32 raw pixels on stdin; answers width*height uint8 class indices
    (argmax, first of equals), then with flag 2 the class-major float32 probabilities. EOF ends."""
    device, info = pick_device(device_name)
    meta, weights = load_model(folder)
    top = meta['modelTopology']
    net = Net(top['arch'], weights, device)
    # io.ts's transforms (validated there); models from before augment=auto average over all 8.
    transforms = top.get('transforms') or ALL_TRANSFORMS
    emit('ready', stream=sys.stderr, **info)
    stdin, stdout = sys.stdin.buffer, sys.stdout.buffer
    while True:
        head = read_exact(stdin, HEADER.size)
        if head is None:
            return
        w, h, flags, planes = HEADER.unpack(head)
        planes = max(1, planes)  # channels x (2k+1) raw planes, channel-major; older clients send 0 (one slice)
        if planes != int(top['arch'].get('inChannels', 1)):
            raise Fail('bad-request', f"the model takes {top['arch'].get('inChannels', 1)} input planes (channels x slices), the request has {planes}")
        raw = np.frombuffer(read_exact(stdin, 4 * w * h * planes), dtype='<f4').reshape(planes, h, w)
        probs = predict(net, top['normalization'], raw, bool(flags & 1), device, transforms)
        stdout.write(torch.argmax(probs, 0).to(torch.uint8).cpu().numpy().tobytes())
        if flags & 2:
            stdout.write(probs.float().cpu().numpy().astype('<f4').tobytes())
        stdout.flush()


def main():
    mode = sys.argv[1] if len(sys.argv) > 1 else ''
    try:
        if mode == 'probe':
            print(json.dumps(versions()), flush=True)
        elif mode == 'train':
            train(sys.argv[2])
        elif mode == 'serve':
            serve(sys.argv[2], sys.argv[3] if len(sys.argv) > 3 else 'auto')
        else:
            raise Fail('usage', 'usage: stackseg_msdnet.py probe | train WORKDIR | serve MODELDIR [DEVICE]')
    except Fail as e:
        emit('error', stream=sys.stderr if mode == 'serve' else sys.stdout, code=e.code, message=str(e))
        sys.exit(2)
    except torch.cuda.OutOfMemoryError if hasattr(torch.cuda, 'OutOfMemoryError') else MemoryError as e:
        emit('error', stream=sys.stderr if mode == 'serve' else sys.stdout, code='out-of-memory', message=str(e).split('\n')[0])
        sys.exit(2)


if __name__ == '__main__':
    main()
