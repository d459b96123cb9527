using System;
using System.Collections.Generic;

namespace ILGpuDeconv.Tests.Reference;

/// <summary>
/// Conv2DTranspose written the plainest way: every (input element, kernel tap, filter) product goes to
/// its output position (input position * stride + tap * dilation - crop), in double precision. It shares
/// only the output-size and crop rules (<see cref="Conv2DTransposeGeometry"/>) with the library, and
/// those are tested separately against TensorFlow's values.
/// </summary>
public sealed class ReferenceConv2DTranspose
{
    private readonly Conv2DTransposeGeometry g;
    private readonly bool channelsLast;

    public ReferenceConv2DTranspose(Conv2DTransposeGeometry geometry)
    {
        g = geometry;
        channelsLast = geometry.DataFormat == DataFormat.ChannelsLast;
    }

    /// <summary>The pre-activation <c>z = bias + x (*)^T K</c>, in the output's layout.</summary>
    public double[] PreActivation(float[] x, float[] kernel, float[]? bias)
    {
        var z = new double[g.OutputElements];
        foreach (var (input, weight, output) in Products())
        {
            z[output] += (double)x[input] * kernel[weight];
        }

        if (bias is not null)
        {
            for (int o = 0; o < z.Length; o++)
            {
                z[o] += bias[FilterOf(o)];
            }
        }

        return z;
    }

    /// <summary>The output <c>act(z)</c>; softmax and log_softmax along the last axis.</summary>
    public double[] Forward(float[] x, float[] kernel, float[]? bias, string activation)
    {
        var z = PreActivation(x, kernel, bias);
        if (activation is "softmax" or "log_softmax")
        {
            return Softmax(z, activation == "log_softmax");
        }

        for (int k = 0; k < z.Length; k++)
        {
            z[k] = ReferenceActivations.Apply(activation, z[k]);
        }

        return z;
    }

    /// <summary>softmax (or log_softmax) of each row of the last axis, in double.</summary>
    private double[] Softmax(double[] z, bool log)
    {
        int length = LastAxis;
        var y = new double[z.Length];
        for (int start = 0; start < z.Length; start += length)
        {
            var row = z.AsSpan(start, length);
            double max = double.NegativeInfinity;
            foreach (double v in row)
            {
                max = Math.Max(max, v);
            }

            double sum = 0;
            foreach (double v in row)
            {
                sum += Math.Exp(v - max);
            }

            for (int i = 0; i < length; i++)
            {
                y[start + i] = log ? row[i] - max - Math.Log(sum) : Math.Exp(row[i] - max) / sum;
            }
        }

        return y;
    }

    private int LastAxis => channelsLast ? g.Filters : g.OutputWidth;

    /// <summary>Gradients of <c>sum(act(z) * upstream)</c> for input, kernel and bias.</summary>
    public (double[] Input, double[] Kernel, double[] Bias) Gradients(float[] x, float[] kernel, float[]? bias, string activation, float[] upstream)
    {
        var dz = PreActivationGradient(x, kernel, bias, activation, upstream);
        return Backpropagate(dz, x, kernel, absolute: false);
    }

    /// <summary>
    /// The sums of the absolute values of the terms each gradient adds up (<c>sum |dz * K|</c>, <c>sum |dz * x|</c>,
    /// <c>sum |dz|</c>): the scale of the rounding error a float sum of those terms may carry, however much they cancel.
    /// </summary>
    public (double[] Input, double[] Kernel, double[] Bias) GradientMagnitudes(float[] x, float[] kernel, float[]? bias, string activation, float[] upstream)
    {
        var dz = PreActivationGradient(x, kernel, bias, activation, upstream);
        return Backpropagate(dz, x, kernel, absolute: true);
    }

    private double[] PreActivationGradient(float[] x, float[] kernel, float[]? bias, string activation, float[] upstream)
    {
        var z = PreActivation(x, kernel, bias);
        var dz = new double[z.Length];
        if (activation is "softmax" or "log_softmax")
        {
            // d/dz of sum(u * softmax(z)) = p * (u - sum(u * p)); of sum(u * log_softmax(z)) = u - p * sum(u).
            var p = Softmax(z, log: false);
            bool log = activation == "log_softmax";
            for (int start = 0; start < z.Length; start += LastAxis)
            {
                double dot = 0;
                for (int i = start; i < start + LastAxis; i++)
                {
                    dot += log ? upstream[i] : upstream[i] * p[i];
                }

                for (int i = start; i < start + LastAxis; i++)
                {
                    dz[i] = log ? upstream[i] - (p[i] * dot) : p[i] * (upstream[i] - dot);
                }
            }
        }
        else
        {
            for (int k = 0; k < z.Length; k++)
            {
                dz[k] = upstream[k] * ReferenceActivations.Derivative(activation, z[k]);
            }
        }

        return dz;
    }

    private (double[] Input, double[] Kernel, double[] Bias) Backpropagate(double[] dz, float[] x, float[] kernel, bool absolute)
    {
        var dx = new double[g.InputElements];
        var dk = new double[kernel.Length];
        var db = new double[g.Filters];
        foreach (var (input, weight, output) in Products())
        {
            double toInput = dz[output] * kernel[weight], toKernel = dz[output] * x[input];
            dx[input] += absolute ? Math.Abs(toInput) : toInput;
            dk[weight] += absolute ? Math.Abs(toKernel) : toKernel;
        }

        for (int o = 0; o < dz.Length; o++)
        {
            db[FilterOf(o)] += absolute ? Math.Abs(dz[o]) : dz[o];
        }

        return (dx, dk, db);
    }

    /// <summary>Every product of the transposed convolution: (input index, kernel index, output index).</summary>
    private IEnumerable<(int Input, int Weight, int Output)> Products()
    {
        for (int n = 0; n < g.Batch; n++)
        {
            for (int i = 0; i < g.InputHeight; i++)
            {
                for (int j = 0; j < g.InputWidth; j++)
                {
                    for (int a = 0; a < g.KernelSize.Height; a++)
                    {
                        int oh = (i * g.Strides.Height) + (a * g.DilationRate.Height) - g.CropBegin.Height;
                        for (int b = 0; b < g.KernelSize.Width; b++)
                        {
                            int ow = (j * g.Strides.Width) + (b * g.DilationRate.Width) - g.CropBegin.Width;
                            if (oh < 0 || oh >= g.OutputHeight || ow < 0 || ow >= g.OutputWidth)
                            {
                                continue;
                            }

                            // Groups: channel c feeds only the filters of its group, through kernel column f mod (F/G).
                            int channelsPerGroup = g.InputChannels / g.Groups, filtersPerGroup = g.Filters / g.Groups;
                            for (int c = 0; c < g.InputChannels; c++)
                            {
                                int first = c / channelsPerGroup * filtersPerGroup;
                                for (int f = first; f < first + filtersPerGroup; f++)
                                {
                                    yield return (In(n, i, j, c), Kernel(a, b, f - first, c), Out(n, oh, ow, f));
                                }
                            }
                        }
                    }
                }
            }
        }
    }

    private int FilterOf(int outputIndex) => channelsLast
        ? outputIndex % g.Filters
        : outputIndex / (g.OutputHeight * g.OutputWidth) % g.Filters;

    private int In(int n, int i, int j, int c) => channelsLast
        ? (((((n * g.InputHeight) + i) * g.InputWidth) + j) * g.InputChannels) + c
        : (((((n * g.InputChannels) + c) * g.InputHeight) + i) * g.InputWidth) + j;

    private int Out(int n, int oh, int ow, int f) => channelsLast
        ? (((((n * g.OutputHeight) + oh) * g.OutputWidth) + ow) * g.Filters) + f
        : (((((n * g.Filters) + f) * g.OutputHeight) + oh) * g.OutputWidth) + ow;

    private int Kernel(int a, int b, int f, int c) =>
        (((((a * g.KernelSize.Width) + b) * (g.Filters / g.Groups)) + f) * g.InputChannels) + c;
}
