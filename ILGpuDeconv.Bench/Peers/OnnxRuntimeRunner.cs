#if CPU_PEERS
using System;
using System.Collections.Generic;
using ILGpuDeconv.Bench.Benchmarks;
using Microsoft.ML.OnnxRuntime;

namespace ILGpuDeconv.Bench.Peers;

/// <summary>
/// ONNX Runtime on the CPU: the forward pass as its <c>ConvTranspose</c> and the input gradient as its
/// <c>Conv</c> (the adjoint), in ONNX's NCHW layout, inputs and outputs bound once to host arrays. It has no
/// kernel-gradient operator.
/// </summary>
public sealed class OnnxRuntimeRunner : IPassRunner
{
    private readonly InferenceSession session;
    private readonly RunOptions runOptions = new();
    private readonly OrtValue input;
    private readonly OrtValue output;
    private readonly float[] result;
    private readonly Conv2DTransposeGeometry g;
    private readonly ConvolutionPass pass;

    /// <summary>Creates the runner for the forward pass or the input gradient (ONNX has no kernel-gradient operator).</summary>
    public OnnxRuntimeRunner(BenchmarkShape shape, ConvolutionPass pass, float[] kernel, float[]? bias)
    {
        ArgumentNullException.ThrowIfNull(shape);
        ArgumentNullException.ThrowIfNull(kernel);
        if (pass == ConvolutionPass.KernelGradient)
        {
            throw new ArgumentException("ONNX Runtime has no kernel-gradient operator", nameof(pass));
        }

        g = Conv2DTransposeGeometry.Create(shape.Options, shape.InputShape);
        this.pass = pass;
        int c = g.InputChannels, f = g.Filters, kh = g.KernelSize.Height, kw = g.KernelSize.Width;

        // ONNX ConvTranspose weights are [C_in, C_out, kh, kw]; Conv weights for the adjoint are [C_out=C, C_in=F, kh, kw]: the same array.
        var w = new float[kernel.Length];
        for (int a = 0; a < kh; a++)
        {
            for (int b = 0; b < kw; b++)
            {
                for (int fi = 0; fi < f; fi++)
                {
                    for (int ci = 0; ci < c; ci++)
                    {
                        w[(((((ci * f) + fi) * kh) + a) * kw) + b] = kernel[(((((a * kw) + b) * f) + fi) * c) + ci];
                    }
                }
            }
        }

        long kEffH = ((kh - 1L) * g.DilationRate.Height) + 1, kEffW = ((kw - 1L) * g.DilationRate.Width) + 1;
        long[] inShape = [g.Batch, c, g.InputHeight, g.InputWidth];
        long[] outShape = [g.Batch, f, g.OutputHeight, g.OutputWidth];
        var common = new List<(string, long[])>
        {
            ("kernel_shape", [kh, kw]),
            ("strides", [g.Strides.Height, g.Strides.Width]),
            ("dilations", [g.DilationRate.Height, g.DilationRate.Width]),
        };
        byte[] model;
        if (pass == ConvolutionPass.Forward)
        {
            // Full result (n-1)*s + k_eff, cropped by pads to TensorFlow's output; output_padding covers outputs beyond it.
            long fullH = ((g.InputHeight - 1L) * g.Strides.Height) + kEffH, fullW = ((g.InputWidth - 1L) * g.Strides.Width) + kEffW;
            long endH = Math.Max(0, fullH - g.CropBegin.Height - g.OutputHeight), endW = Math.Max(0, fullW - g.CropBegin.Width - g.OutputWidth);
            common.Add(("pads", [g.CropBegin.Height, g.CropBegin.Width, endH, endW]));
            common.Add(("output_padding", [g.OutputHeight - (fullH - g.CropBegin.Height - endH), g.OutputWidth - (fullW - g.CropBegin.Width - endW)]));
            model = OnnxModel.SingleNode("ConvTranspose", inShape, outShape, w, [c, f, kh, kw], bias, common);
            input = OrtValue.CreateTensorValueFromMemory(Nchw(HostData.Uniform(g.InputElements, 3), g.Batch, g.InputHeight, g.InputWidth, c), inShape);
            result = new float[g.OutputElements];
            output = OrtValue.CreateTensorValueFromMemory(result, outShape);
        }
        else
        {
            long endH = Math.Max(0, ((g.InputHeight - 1L) * g.Strides.Height) + kEffH - g.OutputHeight - g.CropBegin.Height);
            long endW = Math.Max(0, ((g.InputWidth - 1L) * g.Strides.Width) + kEffW - g.OutputWidth - g.CropBegin.Width);
            common.Add(("pads", [g.CropBegin.Height, g.CropBegin.Width, endH, endW]));
            model = OnnxModel.SingleNode("Conv", outShape, inShape, w, [c, f, kh, kw], null, common);
            input = OrtValue.CreateTensorValueFromMemory(Nchw(HostData.Uniform(g.OutputElements, 4), g.Batch, g.OutputHeight, g.OutputWidth, f), outShape);
            result = new float[g.InputElements];
            output = OrtValue.CreateTensorValueFromMemory(result, inShape);
        }

        using var options = new SessionOptions { GraphOptimizationLevel = GraphOptimizationLevel.ORT_ENABLE_ALL };
        session = new InferenceSession(model, options);
    }

    public string Implementation => "onnxruntime";

    public string Accelerator => "host";

    public void Run() => session.Run(runOptions, ["X"], [input], ["Y"], [output]);

    /// <summary>The result in the channels-last layout of the other implementations.</summary>
    public float[] Result()
    {
        bool forward = pass == ConvolutionPass.Forward;
        return Relayout(
            result, g.Batch, forward ? g.OutputHeight : g.InputHeight, forward ? g.OutputWidth : g.InputWidth, forward ? g.Filters : g.InputChannels, toChannelsFirst: false);
    }

    public void Dispose()
    {
        session.Dispose();
        runOptions.Dispose();
        input.Dispose();
        output.Dispose();
    }

    private static float[] Nchw(float[] nhwc, int n, int h, int w, int c) => Relayout(nhwc, n, h, w, c, toChannelsFirst: true);

    /// <summary>Converts between NHWC and NCHW.</summary>
    private static float[] Relayout(float[] source, int n, int h, int w, int c, bool toChannelsFirst)
    {
        var result = new float[source.Length];
        for (int b = 0; b < n; b++)
        {
            for (int i = 0; i < h; i++)
            {
                for (int j = 0; j < w; j++)
                {
                    for (int ci = 0; ci < c; ci++)
                    {
                        int nhwc = ((((b * h) + i) * w) + j) * c + ci;
                        int nchw = ((((b * c) + ci) * h) + i) * w + j;
                        if (toChannelsFirst)
                        {
                            result[nchw] = source[nhwc];
                        }
                        else
                        {
                            result[nhwc] = source[nchw];
                        }
                    }
                }
            }
        }

        return result;
    }
}
#endif
