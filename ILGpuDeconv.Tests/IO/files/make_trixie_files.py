#!/usr/bin/python3
"""Writes the test files of the libraries people use today, with Debian trixie's python3-torch (PyTorch 2.6),
python3-safetensors (0.4.5) and python3-onnx (1.17), in a trixie root as .ci/pocl makes one:
    chroot ROOT apt-get install python3-torch python3-safetensors python3-onnx
    chroot ROOT /usr/bin/python3 /path/to/make_trixie_files.py
CI regenerates nothing; the files are committed.

- torch26_state_dict.pt        torch.save(model.state_dict()) of ConvTranspose2d(3, 4, (3, 2), stride=2), as
                               torch_state_dict.pt (PyTorch 2.6 writes a byteorder record and a serialization id)
- torch26_weights.safetensors  the same weights written by the safetensors library (safetensors.torch.save_file)
- torch26_forward.npz          numpy.savez of x (N, C, H, W) and PyTorch's output y of that model on x
- torch26_convtranspose.onnx   torch.onnx.export (TorchScript exporter, opset 17) of ConvTranspose2d(4, 6, 3,
                               stride=2, padding=1, output_padding=1, dilation=2, groups=2), batch dynamic
- torch26_convtranspose_output.npz  x and PyTorch's output y of that model
"""
import os

import numpy
import safetensors.torch
import torch

here = os.path.dirname(os.path.abspath(__file__))
torch.manual_seed(20261203)
model = torch.nn.Sequential(torch.nn.ConvTranspose2d(3, 4, (3, 2), stride=2))
x = torch.randn(2, 3, 5, 4)
with torch.no_grad():
    y = model(x)
state = model.state_dict()
torch.save(state, os.path.join(here, "torch26_state_dict.pt"))
safetensors.torch.save_file({"weight": state["0.weight"], "bias": state["0.bias"]},
                            os.path.join(here, "torch26_weights.safetensors"), metadata={"format": "pt"})
numpy.savez(os.path.join(here, "torch26_forward.npz"), x=x.numpy(), y=y.numpy())

grouped = torch.nn.Sequential(torch.nn.ConvTranspose2d(4, 6, 3, stride=2, padding=1, output_padding=1, dilation=2, groups=2))
x = torch.randn(2, 4, 5, 4)
with torch.no_grad():
    y = grouped(x)
torch.onnx.export(grouped, x, os.path.join(here, "torch26_convtranspose.onnx"), input_names=["x"], output_names=["y"],
                  opset_version=17, dynamic_axes={"x": {0: "batch"}, "y": {0: "batch"}}, dynamo=False)
numpy.savez(os.path.join(here, "torch26_convtranspose_output.npz"), x=x.numpy(), y=y.numpy())
print("torch", torch.__version__, "safetensors", safetensors.__version__, "wrote the files:", tuple(y.shape))
