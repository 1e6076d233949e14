#!/usr/bin/env python3
"""Exports two small models whose sizes are dims known only at run time, with seeded weights, for
tests/models/run.sh to check against onnxruntime:
- DIR/dyncnn.onnx: batch, height and width run-time (dim_params n, h, w): strided convs, a ceil_mode max
  pool, a 2x nearest Resize and a stride-2 ConvTranspose back up, an FPN-style Add of an upsampled map and
  a skip connection (equal only when h and w are multiples of 8), a global average pool;
- DIR/dynseq.onnx: a streaming-audio shape, [1, 4, t] with t run-time: a strided Conv1d, then an LSTM over
  the t/2 frames.

usage: /usr/bin/python3 models/export_dynamic.py DIR
"""
import os
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


class DynSeq(nn.Module):
    def __init__(self):
        super().__init__()
        self.conv = nn.Conv1d(4, 8, 5, stride=2, padding=2)
        self.lstm = nn.LSTM(8, 6, batch_first=True)

    def forward(self, x):
        frames, _ = self.lstm(F.relu(self.conv(x)).transpose(1, 2))
        return frames


def main():
    out = sys.argv[1]
    os.makedirs(out, exist_ok=True)
    torch.manual_seed(0)
    torch.onnx.export(DynCnn().eval(), torch.randn(1, 3, 64, 96), os.path.join(out, "dyncnn.onnx"), input_names=["x"],
                      output_names=["map", "pooled"], dynamic_axes={"x": {0: "n", 2: "h", 3: "w"}}, opset_version=13)
    torch.onnx.export(DynSeq().eval(), torch.randn(1, 4, 30), os.path.join(out, "dynseq.onnx"), input_names=["x"],
                      output_names=["frames"], dynamic_axes={"x": {2: "t"}}, opset_version=13)


if __name__ == "__main__":
    main()
