using System;
using ILGpuDeconv.Geometry;

namespace ILGpuDeconv.Tests.Reference;

/// <summary>
/// Conv2DTranspose written the plainest way: loops over every input element and kernel tap, each product
/// scattered to its output position (input position * stride + tap * dilation - crop), in double precision. It shares
/// only the output-size and crop rules (<see cref="Conv2DTransposeGeometry"/>) with the library, and
/// those are tested separately against TensorFlow's values.
/// </summary>
public sealed class ReferenceDeconv
{
    private readonly Conv2DTransposeGeometry g;
    private readonly bool channelsLast;

    public ReferenceDeconv(Conv2DTransposeGeometry geometry)
    {
        g = geometry;
        channelsLast = geometry.DataFormat == DataFormat.ChannelsLast;
    }

    /// <summary>The pre-activation <c>z = bias + x (*)^T K</c>, in the output's layout.</summary>
    public double[] PreActivation(float[] x, float[] kernel, float[]? bias)
    {
        var z = new double[g.OutputElements];
        int kh = g.KernelSize.Height, kw = g.KernelSize.Width;
        for (int n = 0; n < g.Batch; n++)
        {
            for (int i = 0; i < g.InputHeight; i++)
            {
                for (int j = 0; j < g.InputWidth; j++)
                {
                    for (int c = 0; c < g.InputChannels; c++)
                    {
                        double xv = x[In(n, i, j, c)];
                        for (int a = 0; a < kh; a++)
                        {
                            int oh = (i * g.Strides.Height) + (a * g.DilationRate.Height) - g.CropBegin.Height;
                            if (oh < 0 || oh >= g.OutputHeight)
                            {
                                continue;
                            }

                            for (int b = 0; b < kw; b++)
                            {
                                int ow = (j * g.Strides.Width) + (b * g.DilationRate.Width) - g.CropBegin.Width;
                                if (ow < 0 || ow >= g.OutputWidth)
                                {
                                    continue;
                                }

                                for (int f = 0; f < g.Filters; f++)
                                {
                                    z[Out(n, oh, ow, f)] += xv * kernel[Kernel(a, b, f, c)];
                                }
                            }
                        }
                    }
                }
            }
        }

        if (bias is not null)
        {
            for (int n = 0; n < g.Batch; n++)
            {
                for (int oh = 0; oh < g.OutputHeight; oh++)
                {
                    for (int ow = 0; ow < g.OutputWidth; ow++)
                    {
                        for (int f = 0; f < g.Filters; f++)
                        {
                            z[Out(n, oh, ow, f)] += bias[f];
                        }
                    }
                }
            }
        }

        return z;
    }

    /// <summary>The output <c>act(z)</c>.</summary>
    public double[] Forward(float[] x, float[] kernel, float[]? bias, string activation)
    {
        var z = PreActivation(x, kernel, bias);
        for (int k = 0; k < z.Length; k++)
        {
            z[k] = ReferenceActivations.Apply(activation, z[k]);
        }

        return z;
    }

    /// <summary>Gradients of <c>sum(act(z) * upstream)</c> for input, kernel and bias.</summary>
    public (double[] Input, double[] Kernel, double[] Bias) Gradients(float[] x, float[] kernel, float[]? bias, string activation, float[] upstream)
    {
        var z = PreActivation(x, kernel, bias);
        var dz = new double[z.Length];
        for (int k = 0; k < z.Length; k++)
        {
            dz[k] = upstream[k] * ReferenceActivations.Derivative(activation, z[k]);
        }

        var dx = new double[g.InputElements];
        var dk = new double[kernel.Length];
        var db = new double[g.Filters];
        int kh = g.KernelSize.Height, kw = g.KernelSize.Width;
        for (int n = 0; n < g.Batch; n++)
        {
            for (int i = 0; i < g.InputHeight; i++)
            {
                for (int j = 0; j < g.InputWidth; j++)
                {
                    for (int c = 0; c < g.InputChannels; c++)
                    {
                        for (int a = 0; a < kh; a++)
                        {
                            int oh = (i * g.Strides.Height) + (a * g.DilationRate.Height) - g.CropBegin.Height;
                            if (oh < 0 || oh >= g.OutputHeight)
                            {
                                continue;
                            }

                            for (int b = 0; b < kw; b++)
                            {
                                int ow = (j * g.Strides.Width) + (b * g.DilationRate.Width) - g.CropBegin.Width;
                                if (ow < 0 || ow >= g.OutputWidth)
                                {
                                    continue;
                                }

                                for (int f = 0; f < g.Filters; f++)
                                {
                                    double d = dz[Out(n, oh, ow, f)];
                                    dx[In(n, i, j, c)] += d * kernel[Kernel(a, b, f, c)];
                                    dk[Kernel(a, b, f, c)] += d * x[In(n, i, j, c)];
                                }
                            }
                        }
                    }
                }
            }
        }

        for (int n = 0; n < g.Batch; n++)
        {
            for (int oh = 0; oh < g.OutputHeight; oh++)
            {
                for (int ow = 0; ow < g.OutputWidth; ow++)
                {
                    for (int f = 0; f < g.Filters; f++)
                    {
                        db[f] += dz[Out(n, oh, ow, f)];
                    }
                }
            }
        }

        return (dx, dk, db);
    }

    private int In(int n, int i, int j, int c) => channelsLast
        ? (((((n * g.InputHeight) + i) * g.InputWidth) + j) * g.InputChannels) + c
        : (((((n * g.InputChannels) + c) * g.InputHeight) + i) * g.InputWidth) + j;

    private int Out(int n, int oh, int ow, int f) => channelsLast
        ? (((((n * g.OutputHeight) + oh) * g.OutputWidth) + ow) * g.Filters) + f
        : (((((n * g.Filters) + f) * g.OutputHeight) + oh) * g.OutputWidth) + ow;

    private int Kernel(int a, int b, int f, int c) =>
        (((((a * g.KernelSize.Width) + b) * g.Filters) + f) * g.InputChannels) + c;
}
