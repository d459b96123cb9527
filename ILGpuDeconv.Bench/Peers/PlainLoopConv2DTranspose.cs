using System;
using System.Threading.Tasks;

namespace ILGpuDeconv.Bench.Peers;

/// <summary>
/// The transposed convolution as a C# developer would first write it: scalar float loops over
/// channels-last data, <see cref="Parallel.For(int, int, Action{int})"/> over (batch, row), spans, the kernel
/// transposed once so the innermost loop runs over contiguous filters, buffers allocated once. It is the
/// speed baseline of the benchmarks and the check of the demo. With groups, each loop stays inside the
/// group (a filter sees its group's channels only), as such a developer would write it.
/// </summary>
public sealed class PlainLoopConv2DTranspose
{
    private readonly Conv2DTransposeGeometry g;
    private readonly float[] kernelCf;   // [kh, kw, C, F / groups]
    private readonly float[] kernelFc;   // [kh, kw, F / groups, C], Keras's own layout
    private readonly int channelsPerGroup;
    private readonly int filtersPerGroup;
    private readonly float[]? bias;
    private readonly bool relu;

    public PlainLoopConv2DTranspose(Conv2DTransposeGeometry geometry, float[] kernel, float[]? bias, bool relu)
    {
        ArgumentNullException.ThrowIfNull(geometry);
        ArgumentNullException.ThrowIfNull(kernel);
        if (geometry.DataFormat != DataFormat.ChannelsLast)
        {
            throw new ArgumentException("the plain loop handles channels_last only", nameof(geometry));
        }

        g = geometry;
        this.bias = bias;
        this.relu = relu;
        kernelFc = kernel;
        channelsPerGroup = g.InputChannels / g.Groups;
        filtersPerGroup = g.Filters / g.Groups;
        int taps = g.KernelSize.Height * g.KernelSize.Width, f = filtersPerGroup, c = g.InputChannels;
        kernelCf = new float[kernel.Length];
        for (int t = 0; t < taps; t++)
        {
            for (int fi = 0; fi < f; fi++)
            {
                for (int ci = 0; ci < c; ci++)
                {
                    kernelCf[(((t * c) + ci) * f) + fi] = kernel[(((t * f) + fi) * c) + ci];
                }
            }
        }
    }

    /// <summary>y = act(bias + x (*)^T K).</summary>
    public void Forward(float[] x, float[] y) => Parallel.For(0, g.Batch * g.OutputHeight, row => ForwardRow(x, y, row));

    /// <summary>dx = conv(dy, K), the input gradient (no activation).</summary>
    public void InputGradient(float[] dy, float[] dx) => Parallel.For(0, g.Batch * g.InputHeight, row => InputGradientRow(dy, dx, row));

    /// <summary>dK and db from x and dy (no activation).</summary>
    public void KernelGradient(float[] x, float[] dy, float[] dk, float[] db)
    {
        int kh = g.KernelSize.Height, kw = g.KernelSize.Width, f = g.Filters;
        Parallel.For(0, kh * kw, tap => KernelGradientTap(x, dy, dk, tap));
        Array.Clear(db);
        int pixels = g.Batch * g.OutputHeight * g.OutputWidth;
        for (int p = 0; p < pixels; p++)
        {
            var row = dy.AsSpan(p * f, f);
            for (int fi = 0; fi < f; fi++)
            {
                db[fi] += row[fi];
            }
        }
    }

    private void ForwardRow(float[] x, float[] y, int row)
    {
        int n = row / g.OutputHeight, oh = row % g.OutputHeight;
        int h = g.InputHeight, w = g.InputWidth, c = g.InputChannels, f = g.Filters;
        int kh = g.KernelSize.Height, kw = g.KernelSize.Width, sh = g.Strides.Height, sw = g.Strides.Width;
        int dh = g.DilationRate.Height, dw = g.DilationRate.Width;
        var outRow = y.AsSpan(row * g.OutputWidth * f, g.OutputWidth * f);
        for (int ow = 0; ow < g.OutputWidth; ow++)
        {
            if (bias is null)
            {
                outRow.Slice(ow * f, f).Clear();
            }
            else
            {
                bias.AsSpan().CopyTo(outRow.Slice(ow * f, f));
            }
        }

        for (int a = 0; a < kh; a++)
        {
            int ti = oh + g.CropBegin.Height - (a * dh);
            if (ti < 0 || ti % sh != 0 || ti / sh >= h)
            {
                continue;
            }

            int i = ti / sh;
            for (int ow = 0; ow < g.OutputWidth; ow++)
            {
                var acc = outRow.Slice(ow * f, f);
                for (int b = 0; b < kw; b++)
                {
                    int tj = ow + g.CropBegin.Width - (b * dw);
                    if (tj < 0 || tj % sw != 0 || tj / sw >= w)
                    {
                        continue;
                    }

                    var xs = x.AsSpan((((n * h) + i) * w + (tj / sw)) * c, c);
                    int fg = filtersPerGroup;
                    var ks = kernelCf.AsSpan(((a * kw) + b) * c * fg, c * fg);
                    for (int ci = 0; ci < c; ci++)
                    {
                        float xv = xs[ci];
                        var kr = ks.Slice(ci * fg, fg);
                        var groupAcc = acc.Slice(ci / channelsPerGroup * fg, fg);
                        for (int fi = 0; fi < fg; fi++)
                        {
                            groupAcc[fi] += xv * kr[fi];
                        }
                    }
                }
            }
        }

        if (relu)
        {
            for (int k = 0; k < outRow.Length; k++)
            {
                outRow[k] = Math.Max(outRow[k], 0f);
            }
        }
    }

    private void InputGradientRow(float[] dy, float[] dx, int row)
    {
        int n = row / g.InputHeight, i = row % g.InputHeight;
        int w = g.InputWidth, c = g.InputChannels, f = g.Filters, oh0 = g.OutputHeight, ow0 = g.OutputWidth;
        int kh = g.KernelSize.Height, kw = g.KernelSize.Width;
        var dxRow = dx.AsSpan(row * w * c, w * c);
        dxRow.Clear();
        for (int j = 0; j < w; j++)
        {
            var acc = dxRow.Slice(j * c, c);
            for (int a = 0; a < kh; a++)
            {
                int oh = (i * g.Strides.Height) + (a * g.DilationRate.Height) - g.CropBegin.Height;
                if (oh < 0 || oh >= oh0)
                {
                    continue;
                }

                for (int b = 0; b < kw; b++)
                {
                    int ow = (j * g.Strides.Width) + (b * g.DilationRate.Width) - g.CropBegin.Width;
                    if (ow < 0 || ow >= ow0)
                    {
                        continue;
                    }

                    var d = dy.AsSpan((((n * oh0) + oh) * ow0 + ow) * f, f);
                    int fg = filtersPerGroup, cg = channelsPerGroup;
                    var ks = kernelFc.AsSpan(((a * kw) + b) * fg * c, fg * c);
                    for (int fi = 0; fi < f; fi++)
                    {
                        float dv = d[fi];
                        int first = fi / fg * cg;
                        var kr = ks.Slice(((fi % fg) * c) + first, cg);
                        var groupAcc = acc.Slice(first, cg);
                        for (int ci = 0; ci < cg; ci++)
                        {
                            groupAcc[ci] += dv * kr[ci];
                        }
                    }
                }
            }
        }
    }

    private void KernelGradientTap(float[] x, float[] dy, float[] dk, int tap)
    {
        int kw = g.KernelSize.Width, a = tap / kw, b = tap % kw;
        int h = g.InputHeight, w = g.InputWidth, c = g.InputChannels, f = g.Filters, oh0 = g.OutputHeight, ow0 = g.OutputWidth;
        int fg = filtersPerGroup, cg = channelsPerGroup;
        var acc = dk.AsSpan(tap * fg * c, fg * c);
        acc.Clear();
        for (int n = 0; n < g.Batch; n++)
        {
            for (int i = 0; i < h; i++)
            {
                int oh = (i * g.Strides.Height) + (a * g.DilationRate.Height) - g.CropBegin.Height;
                if (oh < 0 || oh >= oh0)
                {
                    continue;
                }

                for (int j = 0; j < w; j++)
                {
                    int ow = (j * g.Strides.Width) + (b * g.DilationRate.Width) - g.CropBegin.Width;
                    if (ow < 0 || ow >= ow0)
                    {
                        continue;
                    }

                    var xs = x.AsSpan((((n * h) + i) * w + j) * c, c);
                    var d = dy.AsSpan((((n * oh0) + oh) * ow0 + ow) * f, f);
                    for (int fi = 0; fi < f; fi++)
                    {
                        float dv = d[fi];
                        int first = fi / fg * cg;
                        var row = acc.Slice(((fi % fg) * c) + first, cg);
                        var group = xs.Slice(first, cg);
                        for (int ci = 0; ci < cg; ci++)
                        {
                            row[ci] += dv * group[ci];
                        }
                    }
                }
            }
        }
    }
}
