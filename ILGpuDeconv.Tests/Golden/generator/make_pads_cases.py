#!/usr/bin/python3
"""Writes ../cases/pads.json: conformance cases (../../../docs/CONFORMANCE-FORMAT.md, config.pads) for padding per edge
(ONNX's pads, tf.nn.conv2d_transpose's explicit padding): asymmetric, and negative (rows or columns past an edge of
the full result, which only the bias reaches). Computed by PyTorch 1.13 (Debian's python3-torch, CPU) in float64 from
float32 inputs, independently of the layer's own rules: the unpadded transposed convolution
(torch.nn.functional.conv_transpose2d with padding 0), then a window of it taken at rows top .. top + out - 1 and
columns left .. left + out_w - 1, with zeros outside the full result, where out = full + output_padding - top - bottom;
then the bias, the activation, and autograd's gradients of sum(output * upstream).

  /usr/bin/python3 make_pads_cases.py
"""
import json
import os
import re

import numpy
import torch

here = os.path.dirname(os.path.abspath(__file__))
torch.manual_seed(26)

# (N, C, H, W, F, k, stride, (top, bottom, left, right), output_padding, dilation, bias, activation, format, groups)
CONFIGS = [
    (2, 3, 4, 5, 4, (3, 3), (2, 2), (1, 0, 0, 2), (0, 0), (1, 1), True, "linear", "channels_first", 1),  # asymmetric
    (1, 2, 5, 4, 3, (4, 2), (2, 3), (0, 2, 1, 0), (1, 2), (1, 1), True, "relu", "channels_last", 1),  # asymmetric, output padding
    (2, 3, 3, 3, 2, (3, 3), (3, 2), (0, -1, 0, -2), (0, 0), (1, 1), True, "tanh", "channels_first", 1),  # past the end (ONNX output_shape)
    (1, 2, 4, 4, 3, (3, 2), (2, 2), (-2, 1, -1, 0), (0, 0), (1, 1), True, "sigmoid", "channels_last", 1),  # before the start
    (2, 2, 3, 4, 2, (2, 3), (1, 1), (-1, -1, 2, -2), (0, 0), (2, 1), False, "linear", "channels_first", 1),  # both, with dilation
    (1, 3, 4, 3, 4, (3, 3), (2, 3), (1, 2, -1, 0), (1, 1), (2, 2), True, "relu", "channels_first", 1),  # strides with dilations
    (2, 4, 3, 4, 6, (3, 3), (2, 2), (2, 0, 0, 1), (1, 0), (1, 1), True, "linear", "channels_last", 2),  # groups
    (1, 4, 4, 3, 4, (4, 4), (2, 2), (-1, 2, 1, -1), (0, 0), (1, 1), True, "tanh", "channels_first", 4),  # depthwise
    (2, 3, 2, 3, 3, (5, 3), (3, 3), (3, 0, 0, 3), (2, 2), (1, 1), True, "sigmoid", "channels_last", 1),  # cropping most of a side
    (1, 1, 3, 3, 2, (3, 3), (3, 2), (0, -1, 0, 0), (0, 0), (1, 1), False, "linear", "channels_first", 1),  # ONNX's test_convtranspose_output_shape, by hand
]

ACTIVATIONS = {"linear": lambda z: z, "relu": torch.relu, "tanh": torch.tanh, "sigmoid": torch.sigmoid}


def floats(t):
    return [str(numpy.float32(v)) for v in t.detach().to(torch.float32).reshape(-1).tolist()]


def window(full, begin, length, axis):
    """Positions begin .. begin + length - 1 of full along axis, zeros outside it."""
    before, after = max(0, -begin), max(0, begin + length - full.shape[axis])
    pad = [0, 0, 0, 0]
    pad[(3 - axis) * 2], pad[(3 - axis) * 2 + 1] = before, after  # F.pad orders its pairs from the last axis
    padded = torch.nn.functional.pad(full, pad)
    return padded.narrow(axis, begin + before, length)


def case(index, n, c, h, w, f, k, s, pads, op, d, bias, act, fmt, groups):
    top, bottom, left, right = pads
    x = (torch.rand(n, c, h, w) * 2 - 1).to(torch.float32)
    weight = (torch.rand(c, f // groups, *k) * 2 - 1).to(torch.float32)  # PyTorch layout [C, F / groups, kh, kw]
    b = (torch.rand(f) * 2 - 1).to(torch.float32) if bias else None
    x64 = x.double().requires_grad_()
    w64 = weight.double().requires_grad_()
    b64 = b.double().requires_grad_() if bias else None
    full = torch.nn.functional.conv_transpose2d(x64, w64, None, s, 0, 0, groups, d)
    out_h = full.shape[2] + op[0] - top - bottom
    out_w = full.shape[3] + op[1] - left - right
    z = window(window(full, top, out_h, 2), left, out_w, 3)
    if bias:
        z = z + b64.view(1, f, 1, 1)
    y = ACTIVATIONS[act](z)
    upstream = (torch.rand(y.shape) * 2 - 1).to(torch.float32)
    (y * upstream.double()).sum().backward()
    last = fmt == "channels_last"
    nhwc = (lambda t: t.permute(0, 2, 3, 1)) if last else (lambda t: t)
    keras = lambda t: t.permute(2, 3, 1, 0)  # [C, F, kh, kw] -> [kh, kw, F, C], not flipped
    return {
        "id": index,
        "source": "pytorch_conv_transpose2d_window_float64",
        "config": {"filters": f, "kernel_size": list(k), "strides": list(s), "pads": [top, bottom, left, right], "data_format": fmt,
                   "use_bias": bias, "activation": act, "dilation_rate": list(d), "output_padding": list(op), "groups": groups},
        "input_shape": list(nhwc(x).shape), "kernel_shape": list(keras(weight).shape), "output_shape": list(nhwc(y).shape),
        "crop_begin": [top, left],
        "input": floats(nhwc(x)), "kernel": floats(keras(weight)), "bias": floats(b) if bias else None,
        "upstream": floats(nhwc(upstream)), "output": floats(nhwc(y)),
        "grad_input": floats(nhwc(x64.grad)), "grad_kernel": floats(keras(w64.grad)), "grad_bias": floats(b64.grad) if bias else None,
    }


cases = [case(i, *cfg) for i, cfg in enumerate(CONFIGS)]
text = json.dumps(cases, separators=(",", ":"))
# Numbers were written as strings of their shortest float32 form; unquote them.
text = re.sub(r'"(-?(?:\d+\.?\d*(?:e[-+]?\d+)?|inf|nan))"', r"\1", text)
with open(os.path.join(here, "..", "cases", "pads.json"), "w") as out:
    out.write(text.replace("},{", "},\n{") + "\n")
print(f"wrote {len(cases)} cases")
