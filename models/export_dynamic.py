#!/usr/bin/env python3
"""Exports a small CNN whose batch, height and width are dims known only at run time (dim_params n, h, w):
strided convs, a ceil_mode max pool, a 2x nearest Resize and a stride-2 ConvTranspose back up, an FPN-style
Add of an upsampled map and a skip connection (equal only when h and w are multiples of 8), a global average
pool. Seeded weights. Used by tests/models/run.sh to check run-time H/W against onnxruntime.

usage: /usr/bin/python3 models/export_dynamic.py OUT.onnx
"""
import sys

import torch
import torch.nn as nn
import torch.nn.functional as F


class DynCnn(nn.Module):
    def __init__(self):
        super().__init__()
        self.stem = nn.Conv2d(3, 8, 3, stride=2, padding=1)        # h/2
        self.down = nn.Conv2d(8, 16, 3, stride=2, padding=1)       # h/4
        self.pool = nn.MaxPool2d(2, 2, ceil_mode=True)             # h/8
        self.mid = nn.Conv2d(16, 16, 3, padding=1)
        self.up = nn.ConvTranspose2d(16, 16, 2, stride=2)          # back to h/4
        self.head = nn.Conv2d(16, 4, 1)

    def forward(self, x):
        a = F.relu(self.stem(x))
        b = F.relu(self.down(a))
        c = F.relu(self.mid(self.pool(b)))
        u = F.interpolate(c, scale_factor=2.0, mode="nearest") + self.up(c)
        y = self.head(u + b)                                       # needs h/4 == 2 * (h/8)
        return y, y.mean(dim=(2, 3))


def main():
    out = sys.argv[1]
    torch.manual_seed(0)
    m = DynCnn().eval()
    torch.onnx.export(m, torch.randn(1, 3, 64, 96), out, input_names=["x"], output_names=["map", "pooled"],
                      dynamic_axes={"x": {0: "n", 2: "h", 3: "w"}}, opset_version=13)


if __name__ == "__main__":
    main()
