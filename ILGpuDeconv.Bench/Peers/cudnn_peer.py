#!/usr/bin/env python3
"""PyTorch/cuDNN peer of ILGpuDeconv.Bench quick: times conv_transpose2d and its gradients on CUDA.

Prints one JSON object per line: {"shape", "pass", "impl": "cudnn_fp32"|"cudnn_tf32", "ms"}.
TensorFlow's padding maps onto PyTorch as padding = crop_begin plus output_padding; the benchmark
shapes need no odd end-crop. Started by `ILGpuDeconv.Bench quick --accelerator cuda` so that both
sides are measured in one run on one machine.
"""
import argparse
import json
import sys


def main():
    parser = argparse.ArgumentParser()
    parser.add_argument("--shapes", required=True, help="JSON list of shapes: name,n,h,w,cin,cout,k,s,padding,oh,ow,crop[,groups]")
    parser.add_argument("--passes", default="forward,input_grad,kernel_grad")
    parser.add_argument("--min-time", type=float, default=0.5)
    args = parser.parse_args()
    try:
        import torch
    except ImportError as e:
        print(json.dumps({"error": f"PyTorch is not installed: {e}"}))
        return 0
    if not torch.cuda.is_available():
        print(json.dumps({"error": "torch.cuda.is_available() is False"}))
        return 0
    torch.backends.cudnn.benchmark = True
    device = torch.device("cuda")
    print(json.dumps({"info": {"torch": torch.__version__, "cudnn": torch.backends.cudnn.version(),
                               "gpu": torch.cuda.get_device_name(0)}}), flush=True)
    for shape in json.loads(args.shapes):
        n, h, w, cin, cout, k, s = (shape[key] for key in ("n", "h", "w", "cin", "cout", "k", "s"))
        oh, ow, crop = shape["oh"], shape["ow"], shape["crop"]
        groups = shape.get("groups", 1)
        full = (h - 1) * s + k
        padding = crop
        output_padding = oh - (full - 2 * crop)
        g = torch.Generator(device="cpu").manual_seed(1)
        x = torch.rand((n, cin, h, w), generator=g).mul_(2).sub_(1).to(device)
        weight = torch.rand((cin, cout // groups, k, k), generator=g).mul_(2).sub_(1).to(device)
        bias = torch.rand((cout,), generator=g).mul_(2).sub_(1).to(device)
        dy = torch.rand((n, cout, oh, ow), generator=g).mul_(2).sub_(1).to(device)
        for tf32 in (False, True):
            torch.backends.cudnn.allow_tf32 = tf32
            torch.backends.cuda.matmul.allow_tf32 = tf32
            impl = "cudnn_tf32" if tf32 else "cudnn_fp32"
            for name in args.passes.split(","):
                if name == "forward":
                    def run():
                        return torch.nn.functional.conv_transpose2d(
                            x, weight, bias, stride=s, padding=padding, output_padding=output_padding, groups=groups)
                else:
                    mask = [True, False, False] if name == "input_grad" else [False, True, True]

                    def run(mask=mask):
                        return torch.ops.aten.convolution_backward(
                            dy, x, weight, [cout], [s, s], [padding, padding], [1, 1], True,
                            [output_padding, output_padding], groups, mask)
                print(json.dumps({"shape": shape["name"], "pass": name, "impl": impl, "ms": time(torch, run, args.min_time)}), flush=True)
    return 0


def time(torch, run, min_time):
    for _ in range(3):
        run()
    torch.cuda.synchronize()
    best, total, count = float("inf"), 0.0, 0
    start, stop = torch.cuda.Event(enable_timing=True), torch.cuda.Event(enable_timing=True)
    while count < 5 or (total < min_time * 1000 and count < 200):
        start.record()
        run()
        stop.record()
        stop.synchronize()
        ms = start.elapsed_time(stop)
        best, total, count = min(best, ms), total + ms, count + 1
    return best


if __name__ == "__main__":
    sys.exit(main())
