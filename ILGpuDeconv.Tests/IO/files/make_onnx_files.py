#!/usr/bin/python3
"""Writes the ONNX test files beside this script with Debian's python3-torch (PyTorch 1.13), as a PyTorch user
exports a model: /usr/bin/python3 make_onnx_files.py. CI regenerates nothing; the files are committed.

- torch_convtranspose.onnx         torch.onnx.export (opset 13) of a Sequential holding ConvTranspose2d(3, 4, (3, 2),
                                   stride=(2, 3), padding=(1, 0), output_padding=(1, 2)), batch dynamic
- torch_convtranspose_output.npz   numpy.savez of x (N, C, H, W) and PyTorch's output y of that model on x
"""
import os

import numpy
import torch

here = os.path.dirname(os.path.abspath(__file__))
torch.manual_seed(20261203)
model = torch.nn.Sequential(torch.nn.ConvTranspose2d(3, 4, (3, 2), stride=(2, 3), padding=(1, 0), output_padding=(1, 2)))
x = torch.randn(2, 3, 5, 4)
with torch.no_grad():
    y = model(x)
torch.onnx.export(model, x, os.path.join(here, "torch_convtranspose.onnx"), input_names=["x"], output_names=["y"],
                  opset_version=13, dynamic_axes={"x": {0: "batch"}, "y": {0: "batch"}})
numpy.savez(os.path.join(here, "torch_convtranspose_output.npz"), x=x.numpy(), y=y.numpy())
print("wrote torch_convtranspose.onnx and torch_convtranspose_output.npz:", tuple(y.shape))
