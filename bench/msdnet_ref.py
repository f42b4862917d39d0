"""PyTorch CPU reference for bench/msdnet_speed.mjs: the same MSDNet (12 layers, width 1, dilations 1..6, 3x3 dilated
conv over input + all previous layers, bias, BatchNorm, ReLU, 1x1 output conv), cross-entropy over labelled pixels,
Adam lr 0.01, one 256x256 slice with a random flip/rotation per step. Prints one JSON line of timings.

usage: /usr/bin/python3 bench/msdnet_ref.py [--epochs N] [--size S] [--threads T]
"""
import argparse, json, time
import numpy as np
import torch
from torch import nn


class MSDNet(nn.Module):
    def __init__(self, layers=12, width=1, dilations=(1, 2, 3, 4, 5, 6), classes=2):
        super().__init__()
        self.convs = nn.ModuleList()
        self.norms = nn.ModuleList()
        for i in range(layers):
            d = dilations[i % len(dilations)]
            self.convs.append(nn.Conv2d(1 + i * width, width, 3, padding=d, dilation=d))
            self.norms.append(nn.BatchNorm2d(width))
        self.out = nn.Conv2d(1 + layers * width, classes, 1)

    def forward(self, x):
        features = [x]
        for conv, norm in zip(self.convs, self.norms):
            features.append(torch.relu(norm(conv(torch.cat(features, 1)))))
        return self.out(torch.cat(features, 1))


def main():
    ap = argparse.ArgumentParser()
    ap.add_argument('--epochs', type=int, default=20)
    ap.add_argument('--size', type=int, default=256)
    ap.add_argument('--threads', type=int, default=0)
    a = ap.parse_args()
    if a.threads:
        torch.set_num_threads(a.threads)
    torch.manual_seed(0)
    rng = np.random.default_rng(0)
    image = torch.from_numpy(rng.random((1, 1, a.size, a.size), dtype=np.float32))
    labels = torch.from_numpy(rng.integers(-1, 2, (1, a.size, a.size)).astype(np.int64))  # -1 = unlabelled
    net = MSDNet()
    opt = torch.optim.Adam(net.parameters(), lr=0.01)
    loss_fn = nn.CrossEntropyLoss(ignore_index=-1)
    times = []
    for step in range(a.epochs):
        t0 = time.perf_counter()
        k = int(rng.integers(8))
        x = torch.rot90(image.flip(3) if k & 4 else image, k & 3, (2, 3)).contiguous()
        y = torch.rot90(labels.flip(2) if k & 4 else labels, k & 3, (1, 2)).contiguous()
        opt.zero_grad()
        loss = loss_fn(net(x), y)
        loss.backward()
        opt.step()
        loss.item()
        times.append(time.perf_counter() - t0)
    steady = sorted(times[2:]) if len(times) > 4 else sorted(times)
    print(json.dumps({'impl': 'pytorch-cpu', 'torch': torch.__version__, 'threads': torch.get_num_threads(),
                      'size': a.size, 'epochs': a.epochs, 'median_s': steady[len(steady) // 2],
                      'mean_s': sum(steady) / len(steady)}))


if __name__ == '__main__':
    main()
