#!/usr/bin/python3
"""Writes ../cases/pytorch_semantics.json: conformance cases (../../../docs/CONFORMANCE-FORMAT.md, the
PyTorch padding pair) computed by PyTorch 1.13 (Debian's python3-torch, CPU) with
torch.nn.functional.conv_transpose2d and autograd, in float64 from float32 inputs.

Covers PyTorch's explicit padding (also asymmetric), output_padding (smaller than the stride, or than the
dilation), dilation, strides and dilation together (which Keras refuses), asymmetric strides and kernels, sizes chosen through forward(input, output_size) (written as
the output_padding PyTorch derives), both data formats, with and without bias, several activations.
The last cases have groups (2, 3, and depthwise with one and two filters per channel).

  /usr/bin/python3 make_pytorch_cases.py
"""
import json
import os

import numpy
import torch

here = os.path.dirname(os.path.abspath(__file__))
torch.manual_seed(15)

# (N, C, H, W, F, k, stride, padding, output_padding, dilation, output_size, bias, activation, format)
CONFIGS = [
    (2, 3, 4, 5, 4, (3, 3), (2, 2), (1, 1), (1, 1), (1, 1), None, True, "linear", "channels_first"),
    (1, 2, 5, 4, 3, (4, 2), (2, 3), (1, 0), (0, 2), (1, 1), None, True, "relu", "channels_first"),
    (2, 4, 3, 3, 2, (3, 5), (1, 1), (2, 1), (0, 0), (2, 3), None, False, "linear", "channels_first"),
    (1, 3, 4, 4, 5, (2, 3), (3, 2), (0, 1), (2, 1), (1, 1), None, True, "tanh", "channels_last"),
    (2, 2, 3, 6, 3, (5, 3), (2, 2), (2, 1), (1, 0), (1, 1), None, True, "sigmoid", "channels_last"),
    (1, 5, 4, 3, 2, (3, 3), (1, 1), (0, 0), (1, 1), (2, 2), None, True, "linear", "channels_first"),  # output_padding < dilation
    (2, 3, 3, 4, 4, (4, 4), (3, 3), (1, 2), None, (1, 1), (10, 11), True, "relu", "channels_first"),  # forward(x, output_size)
    (1, 2, 5, 5, 3, (1, 1), (2, 2), (0, 0), None, (1, 1), (10, 9), False, "linear", "channels_last"),  # output_size, 1x1 kernel
    (2, 3, 2, 3, 2, (3, 2), (4, 1), (3, 0), (3, 0), (1, 1), None, True, "linear", "channels_first"),  # padding eats all but the end
    (2, 3, 4, 3, 4, (3, 3), (2, 3), (1, 2), (1, 2), (2, 2), None, True, "relu", "channels_first"),  # stride and dilation together
    (1, 2, 3, 5, 3, (4, 2), (3, 2), (2, 1), (2, 0), (2, 3), None, False, "tanh", "channels_last"),  # gcd(s, d) > 1 on rows, 1 on columns
    (2, 2, 3, 3, 2, (3, 3), (4, 4), (0, 0), (0, 3), (2, 2), None, True, "linear", "channels_first"),  # phases no tap reaches
]

# The same, with groups: (config..., groups)
GROUPED = [
    (2, 4, 3, 4, 6, (3, 3), (2, 2), (1, 1), (1, 1), (1, 1), None, True, "linear", "channels_first", 2),
    (1, 6, 4, 3, 9, (4, 2), (2, 1), (1, 0), (0, 0), (1, 1), None, True, "relu", "channels_last", 3),
    (2, 4, 3, 3, 4, (4, 4), (2, 2), (1, 1), (0, 0), (1, 1), None, True, "tanh", "channels_first", 4),  # depthwise
    (1, 3, 4, 4, 6, (3, 3), (1, 1), (2, 2), (1, 0), (2, 2), None, False, "linear", "channels_last", 3),  # depthwise, 2 filters per channel, dilation
    (2, 4, 3, 3, 4, (3, 3), (2, 3), (1, 1), (1, 2), (2, 2), None, True, "sigmoid", "channels_first", 2),  # stride and dilation together
]

ACTIVATIONS = {"linear": lambda z: z, "relu": torch.relu, "tanh": torch.tanh, "sigmoid": torch.sigmoid}


def floats(t):
    return [str(numpy.float32(v)) for v in t.detach().to(torch.float32).reshape(-1).tolist()]


def case(index, n, c, h, w, f, k, s, p, op, d, size, bias, act, fmt, groups=1):
    x = (torch.rand(n, c, h, w) * 2 - 1).to(torch.float32)
    weight = (torch.rand(c, f // groups, *k) * 2 - 1).to(torch.float32)  # PyTorch layout [C, F / groups, kh, kw]
    b = (torch.rand(f) * 2 - 1).to(torch.float32) if bias else None
    if size is not None:
        # What forward(input, output_size) does: the output_padding that reaches the size.
        smallest = [(x.shape[2 + i] - 1) * s[i] - 2 * p[i] + d[i] * (k[i] - 1) + 1 for i in range(2)]
        op = (size[0] - smallest[0], size[1] - smallest[1])
        module = torch.nn.ConvTranspose2d(c, f, k, s, p, 0, groups, bias, d)
        assert tuple(module(x, output_size=list(size)).shape[2:]) == tuple(size)
    x64 = x.double().requires_grad_()
    w64 = weight.double().requires_grad_()
    b64 = b.double().requires_grad_() if bias else None
    z = torch.nn.functional.conv_transpose2d(x64, w64, b64, s, p, op, groups, d)
    y = ACTIVATIONS[act](z)
    upstream = (torch.rand(y.shape) * 2 - 1).to(torch.float32)
    (y * upstream.double()).sum().backward()
    last = fmt == "channels_last"
    nhwc = (lambda t: t.permute(0, 2, 3, 1)) if last else (lambda t: t)
    keras = lambda t: t.permute(2, 3, 1, 0)  # [C, F, kh, kw] -> [kh, kw, F, C], not flipped
    return {
        "id": index,
        "source": "pytorch_conv_transpose2d_float64",
        "config": {"filters": f, "kernel_size": list(k), "strides": list(s), "padding": list(p), "data_format": fmt,
                   "use_bias": bias, "activation": act, "dilation_rate": list(d), "output_padding": list(op), "groups": groups},
        "input_shape": list(nhwc(x).shape), "kernel_shape": list(keras(weight).shape), "output_shape": list(nhwc(y).shape),
        "crop_begin": list(p),
        "input": floats(nhwc(x)), "kernel": floats(keras(weight)), "bias": floats(b) if bias else None,
        "upstream": floats(nhwc(upstream)), "output": floats(nhwc(y)),
        "grad_input": floats(nhwc(x64.grad)), "grad_kernel": floats(keras(w64.grad)), "grad_bias": floats(b64.grad) if bias else None,
    }


cases = [case(i, *cfg) for i, cfg in enumerate(CONFIGS + GROUPED)]
text = json.dumps(cases, separators=(",", ":"))
# Numbers were written as strings of their shortest float32 form; unquote them.
import re
text = re.sub(r'"(-?(?:\d+\.?\d*(?:e[-+]?\d+)?|inf|nan))"', r"\1", text)
with open(os.path.join(here, "..", "cases", "pytorch_semantics.json"), "w") as out:
    out.write(text.replace("},{", "},\n{") + "\n")
print(f"wrote {len(cases)} cases")
