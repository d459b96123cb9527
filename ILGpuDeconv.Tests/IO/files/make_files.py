#!/usr/bin/python3
"""Writes the PyTorch and safetensors test files beside this script (run with Debian's python3-torch:
/usr/bin/python3 make_files.py). CI regenerates nothing; the files are committed.

- torch_state_dict.pt   torch.save(model.state_dict()) of a Sequential holding ConvTranspose2d(3, 4, (3, 2), stride=2)
- torch_forward.npz     numpy.savez of x (N, C, H, W) and torch's output y of that model on x
- torch_checkpoint.pt   a nested checkpoint {'model': state_dict, 'epoch', 'lr'} with a float64 weight and a
                        transposed (non-contiguous) extra tensor
- torch_half.pt         float16 and bfloat16 tensors
- torch_legacy.pt       the pre-1.6 (non-zip) format, which the reader refuses with advice
- torch_malicious.pt    a pickle whose object reduces to os.system: the reader must refuse it unread
- torch_module.pt       torch.save(model) of the whole Sequential (classes, not a state_dict): refused with the advice
                        to save model.state_dict() (made 2026-12-08 by the lines at the end, seed 20261208)
- torch_weights.safetensors  the same ConvTranspose2d weights as safetensors, written here by the format's
                        specification (json + struct): the safetensors library is not on this machine
"""
import json
import os
import struct

import numpy
import torch

here = os.path.dirname(os.path.abspath(__file__))
torch.manual_seed(20261126)
model = torch.nn.Sequential(torch.nn.ConvTranspose2d(3, 4, (3, 2), stride=2))
x = torch.randn(2, 3, 5, 4)
with torch.no_grad():
    y = model(x)
torch.save(model.state_dict(), os.path.join(here, "torch_state_dict.pt"))
numpy.savez(os.path.join(here, "torch_forward.npz"), x=x.numpy(), y=y.numpy())

state = model.state_dict()
checkpoint = {
    "model": {"deconv.weight": state["0.weight"].double(), "deconv.bias": state["0.bias"]},
    "extra": torch.arange(6, dtype=torch.float32).reshape(2, 3).t(),
    "epoch": 3,
    "lr": 0.001,
}
torch.save(checkpoint, os.path.join(here, "torch_checkpoint.pt"))
torch.save({"half": torch.tensor([1.5, -2.25, 65504.0], dtype=torch.float16),
            "bf16": torch.tensor([1.5, -2.25, 3.0e38], dtype=torch.bfloat16)}, os.path.join(here, "torch_half.pt"))
torch.save(state, os.path.join(here, "torch_legacy.pt"), _use_new_zipfile_serialization=False)


class Payload:
    def __reduce__(self):
        return (os.system, ("echo pwned",))


torch.save({"weight": Payload()}, os.path.join(here, "torch_malicious.pt"))

# safetensors by its specification: u64 header length, JSON header, raw little-endian data.
tensors = {"weight": state["0.weight"], "bias": state["0.bias"]}
header, blobs, offset = {"__metadata__": {"format": "pt"}}, [], 0
for name, tensor in tensors.items():
    data = tensor.contiguous().numpy().astype("<f4").tobytes()
    header[name] = {"dtype": "F32", "shape": list(tensor.shape), "data_offsets": [offset, offset + len(data)]}
    blobs.append(data)
    offset += len(data)
text = json.dumps(header).encode()
text += b" " * (-len(text) % 8)
with open(os.path.join(here, "torch_weights.safetensors"), "wb") as f:
    f.write(struct.pack("<Q", len(text)) + text + b"".join(blobs))
# The whole module, pickled with its classes (what torch.save(model) writes): the reader refuses it with advice.
torch.manual_seed(20261208)
torch.save(torch.nn.Sequential(torch.nn.ConvTranspose2d(3, 4, (3, 2), stride=2)), os.path.join(here, "torch_module.pt"))

print("wrote", sorted(n for n in os.listdir(here) if not n.endswith(".py")))
