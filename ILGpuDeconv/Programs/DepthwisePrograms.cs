namespace ILGpuDeconv.Programs;

/// <summary>
/// The forward pass of a depthwise layer (one input channel per group, any filters per group), the case where
/// <see cref="ForwardProgram{TAct, TMem}"/>'s blocks of four filters of one group would be mostly empty. Each item
/// is one output row, four columns of one stride phase and four consecutive filters of the whole output, which
/// may belong to different groups: lane <c>l</c> reads its own group's input channel and weights. Products as in
/// <see cref="ForwardProgram{TAct, TMem}"/>: only those TensorFlow forms, each output written once.
/// </summary>
/// <typeparam name="TAct">The activation function fused into the store.</typeparam>
/// <typeparam name="TMem">The memory accessor of the accelerator.</typeparam>
internal readonly struct DepthwiseForwardProgram<TAct, TMem>(in Conv2DTransposeParams p, TMem x, TMem w, TMem bias, TMem y, TMem pre, TAct act, ForwardFlags flags) : IGpuProgram
    where TAct : unmanaged, IActivationFunction
    where TMem : struct, ITensorMemory
{
    // w: the groups' forward layouts, [G][kh, kw, 1, FiltersPadded].
    private readonly Conv2DTransposeParams p = p;
    private readonly TMem x = x;
    private readonly TMem w = w;
    private readonly TMem bias = bias;
    private readonly TMem y = y;
    private readonly TMem pre = pre;
    private readonly TAct act = act;
    private readonly ForwardFlags flags = flags;

    public long Items => (long)p.Batch * p.OutHeight * p.StrideW * p.PhaseColumnBlocks * p.AllFilterBlocks;

    public void Execute(int item) => Block(item, p, x, w, bias, y, pre, act, flags);

    // Static, with the tensors as parameters, as in ForwardProgram (the CPU accelerator's JIT keeps them in registers).
    private static void Block(int item, in Conv2DTransposeParams p, TMem x, TMem w, TMem bias, TMem y, TMem pre, TAct act, ForwardFlags flags)
    {
        int f0 = (item % p.AllFilterBlocks) * Conv2DTransposeParams.Block;
        var at = new PhaseBlock(p, item / p.AllFilterBlocks);
        int ow0 = at.FirstColumn;
        if (ow0 >= p.OutWidth)
        {
            return;
        }

        // Each lane's filter (a missing one repeats the first, and is not stored), its input channel and its weights.
        var lanes = new DepthwiseLanes(p, f0);
        int x0c = lanes.Group0 * p.XC, x1c = lanes.Group1 * p.XC, x2c = lanes.Group2 * p.XC, x3c = lanes.Group3 * p.XC;
        int layout = (int)p.ForwardLayoutLength;
        int w0f = (lanes.Group0 * layout) + lanes.Local0, w1f = (lanes.Group1 * layout) + lanes.Local1;
        int w2f = (lanes.Group2 * layout) + lanes.Local2, w3f = (lanes.Group3 * layout) + lanes.Local3;

        float a00 = 0, a01 = 0, a02 = 0, a03 = 0;
        float a10 = 0, a11 = 0, a12 = 0, a13 = 0;
        float a20 = 0, a21 = 0, a22 = 0, a23 = 0;
        float a30 = 0, a31 = 0, a32 = 0, a33 = 0;

        // The taps of the phase, stepped as in ForwardProgram.
        for (int a = at.TapRow, i = at.InputRow; a >= 0 && a < p.KernelHeight && i >= 0; a += p.TapStepH, i -= p.InputStepH)
        {
            if (i >= p.InHeight)
            {
                continue;
            }

            for (int b = at.TapColumn, j = at.InputColumn; b >= 0 && b < p.KernelWidth && j + Conv2DTransposeParams.Block - 1 >= 0; b += p.TapStepW, j -= p.InputStepW)
            {
                bool v0 = j >= 0 && j < p.InWidth;
                bool v1 = j + 1 >= 0 && j + 1 < p.InWidth;
                bool v2 = j + 2 >= 0 && j + 2 < p.InWidth;
                bool v3 = j + 3 >= 0 && j + 3 < p.InWidth;
                int tap = ((a * p.KernelWidth) + b) * p.FiltersPadded;
                float w0 = w.Load(w0f + tap);
                float w1 = w.Load(w1f + tap);
                float w2 = w.Load(w2f + tap);
                float w3 = w.Load(w3f + tap);
                int xo = (at.N * p.XN) + (i * p.XH) + (j * p.XW);

                // A column outside the input forms no product, as in ForwardProgram.
                if (v0)
                {
                    a00 += x.Load(xo + x0c) * w0;
                    a01 += x.Load(xo + x1c) * w1;
                    a02 += x.Load(xo + x2c) * w2;
                    a03 += x.Load(xo + x3c) * w3;
                }

                xo += p.XW;
                if (v1)
                {
                    a10 += x.Load(xo + x0c) * w0;
                    a11 += x.Load(xo + x1c) * w1;
                    a12 += x.Load(xo + x2c) * w2;
                    a13 += x.Load(xo + x3c) * w3;
                }

                xo += p.XW;
                if (v2)
                {
                    a20 += x.Load(xo + x0c) * w0;
                    a21 += x.Load(xo + x1c) * w1;
                    a22 += x.Load(xo + x2c) * w2;
                    a23 += x.Load(xo + x3c) * w3;
                }

                xo += p.XW;
                if (v3)
                {
                    a30 += x.Load(xo + x0c) * w0;
                    a31 += x.Load(xo + x1c) * w1;
                    a32 += x.Load(xo + x2c) * w2;
                    a33 += x.Load(xo + x3c) * w3;
                }
            }
        }

        bool addBias = (flags & ForwardFlags.AddBias) != 0;
        float b0 = addBias ? bias.Load(lanes.Filter0) : 0f;
        float b1 = addBias ? bias.Load(lanes.Filter1) : 0f;
        float b2 = addBias ? bias.Load(lanes.Filter2) : 0f;
        float b3 = addBias ? bias.Load(lanes.Filter3) : 0f;
        int rowBase = (at.N * p.YN) + (at.OutRow * p.YH);
        ForwardProgram<TAct, TMem>.StoreColumn(p, y, pre, act, flags, rowBase, ow0, f0, p.BiasStride, a00 + b0, a01 + b1, a02 + b2, a03 + b3);
        ForwardProgram<TAct, TMem>.StoreColumn(p, y, pre, act, flags, rowBase, ow0 + p.StrideW, f0, p.BiasStride, a10 + b0, a11 + b1, a12 + b2, a13 + b3);
        ForwardProgram<TAct, TMem>.StoreColumn(p, y, pre, act, flags, rowBase, ow0 + (2 * p.StrideW), f0, p.BiasStride, a20 + b0, a21 + b1, a22 + b2, a23 + b3);
        ForwardProgram<TAct, TMem>.StoreColumn(p, y, pre, act, flags, rowBase, ow0 + (3 * p.StrideW), f0, p.BiasStride, a30 + b0, a31 + b1, a32 + b2, a33 + b3);
    }
}

/// <summary>
/// The input gradient of a depthwise layer (one input channel per group), where <see cref="InputGradientProgram{TMem}"/>'s
/// blocks of four channels of one group would hold one. Each item is one input row, four consecutive input columns
/// and four consecutive input channels, that is four groups: lane <c>l</c> sums its own group's filters of dz against
/// its own weights, <c>dx[n,i,j,g] = sum over a, b, f of dz[n, i*sh + a*dh - top, j*sw + b*dw - left, g*F/G + f] * K[a,b,f,g]</c>,
/// in the order <see cref="InputGradientProgram{TMem}"/> sums. Each element is written once.
/// </summary>
/// <typeparam name="TMem">The memory accessor of the accelerator.</typeparam>
internal readonly struct DepthwiseInputGradientProgram<TMem>(in Conv2DTransposeParams p, TMem dz, TMem w, TMem dx) : IGpuProgram
    where TMem : struct, ITensorMemory
{
    private readonly Conv2DTransposeParams p = p;
    private readonly TMem dz = dz;
    private readonly TMem w = w;
    private readonly TMem dx = dx;

    /// <summary>Gets the items: one per (n, input row, column block, block of four channels).</summary>
    public long Items => (long)p.Batch * p.InHeight * p.InColumnBlocks * p.AllChannelBlocks;

    public void Execute(int item) => Block(item, p, dz, w, dx);

    private static void Block(int item, in Conv2DTransposeParams p, TMem dz, TMem w, TMem dx)
    {
        int c0 = (item % p.AllChannelBlocks) * Conv2DTransposeParams.Block;
        int rest = item / p.AllChannelBlocks;
        int j0 = (rest % p.InColumnBlocks) * Conv2DTransposeParams.Block;
        rest /= p.InColumnBlocks;
        int i = rest % p.InHeight;
        int n = rest / p.InHeight;

        // Each lane's group (its channel; a missing one repeats the first, and is not stored): its filters in dz
        // and its part of the groups' input-gradient layouts [G][kh, kw, F/G, ChannelsPadded].
        int g0 = c0;
        int g1 = c0 + 1 < p.KernelChannels ? c0 + 1 : c0;
        int g2 = c0 + 2 < p.KernelChannels ? c0 + 2 : c0;
        int g3 = c0 + 3 < p.KernelChannels ? c0 + 3 : c0;
        int d0g = g0 * p.OutputGroupStep, d1g = g1 * p.OutputGroupStep, d2g = g2 * p.OutputGroupStep, d3g = g3 * p.OutputGroupStep;
        int layout = (int)p.InputGradientLayoutLength;
        int w0g = g0 * layout, w1g = g1 * layout, w2g = g2 * layout, w3g = g3 * layout;

        float a00 = 0, a01 = 0, a02 = 0, a03 = 0;
        float a10 = 0, a11 = 0, a12 = 0, a13 = 0;
        float a20 = 0, a21 = 0, a22 = 0, a23 = 0;
        float a30 = 0, a31 = 0, a32 = 0, a33 = 0;

        int columnStep = p.StrideW * p.YW;
        for (int a = 0; a < p.KernelHeight; a++)
        {
            int oh = (i * p.StrideH) + (a * p.DilationH) - p.CropTop;
            if (oh < 0)
            {
                continue;
            }

            if (oh >= p.OutHeight)
            {
                break;
            }

            for (int b = 0; b < p.KernelWidth; b++)
            {
                var columns = new InputColumnBlock(p, j0, b);
                if (!columns.Any)
                {
                    continue;
                }

                int dBase = (n * p.YN) + (oh * p.YH) + (columns.FirstOutputColumn * p.YW);
                int tapBase = ((a * p.KernelWidth) + b) * p.Filters * p.ChannelsPadded;
                for (int f = 0; f < p.Filters; f++)
                {
                    int d = dBase + (f * p.YC);
                    int wo = tapBase + (f * p.ChannelsPadded);
                    float w0 = w.Load(w0g + wo);
                    float w1 = w.Load(w1g + wo);
                    float w2 = w.Load(w2g + wo);
                    float w3 = w.Load(w3g + wo);
                    if (columns.V0)
                    {
                        a00 += dz.Load(d + d0g) * w0;
                        a01 += dz.Load(d + d1g) * w1;
                        a02 += dz.Load(d + d2g) * w2;
                        a03 += dz.Load(d + d3g) * w3;
                    }

                    d += columnStep;
                    if (columns.V1)
                    {
                        a10 += dz.Load(d + d0g) * w0;
                        a11 += dz.Load(d + d1g) * w1;
                        a12 += dz.Load(d + d2g) * w2;
                        a13 += dz.Load(d + d3g) * w3;
                    }

                    d += columnStep;
                    if (columns.V2)
                    {
                        a20 += dz.Load(d + d0g) * w0;
                        a21 += dz.Load(d + d1g) * w1;
                        a22 += dz.Load(d + d2g) * w2;
                        a23 += dz.Load(d + d3g) * w3;
                    }

                    d += columnStep;
                    if (columns.V3)
                    {
                        a30 += dz.Load(d + d0g) * w0;
                        a31 += dz.Load(d + d1g) * w1;
                        a32 += dz.Load(d + d2g) * w2;
                        a33 += dz.Load(d + d3g) * w3;
                    }
                }
            }
        }

        int rowBase = (n * p.XN) + (i * p.XH);
        InputGradientProgram<TMem>.StoreColumn(p, dx, rowBase, j0, c0, p.KernelChannels, a00, a01, a02, a03);
        InputGradientProgram<TMem>.StoreColumn(p, dx, rowBase, j0 + 1, c0, p.KernelChannels, a10, a11, a12, a13);
        InputGradientProgram<TMem>.StoreColumn(p, dx, rowBase, j0 + 2, c0, p.KernelChannels, a20, a21, a22, a23);
        InputGradientProgram<TMem>.StoreColumn(p, dx, rowBase, j0 + 3, c0, p.KernelChannels, a30, a31, a32, a33);
    }
}

/// <summary>
/// The kernel gradient of a depthwise layer (one input channel per group), whose blocks of four filters by four
/// channels in <see cref="WeightGradientProgram{TMem}"/> would hold one useful product in sixteen. Each item is one
/// reduction chunk, one tap and four consecutive filters of the whole output, each lane with its group's input
/// channel: <c>partial[s, a, b, f, g] = sum over (n, i) in chunk s, j of x[n,i,j,g] * dz[n, oh, ow, g*F/G + f]</c>,
/// summed row by row as in <see cref="WeightGradientProgram{TMem}"/> and finished by <see cref="GradientFinishProgram{TMem}"/>.
/// The bias gradient runs in <see cref="WeightGradientProgram{TMem}"/>.
/// </summary>
/// <typeparam name="TMem">The memory accessor of the accelerator.</typeparam>
internal readonly struct DepthwiseKernelGradientProgram<TMem>(in Conv2DTransposeParams p, ChunkPlan chunks, TMem x, TMem dz, TMem kernelPartial) : IGpuProgram
    where TMem : struct, ITensorMemory
{
    private readonly Conv2DTransposeParams p = p;
    private readonly ChunkPlan chunks = chunks;
    private readonly TMem x = x;
    private readonly TMem dz = dz;
    private readonly TMem kernelPartial = kernelPartial;

    public long Items => (long)chunks.Count * p.DepthwiseKernelGradientItemsPerChunk;

    public void Execute(int item) => Block(item, p, chunks, x, dz, kernelPartial);

    private static void Block(int item, in Conv2DTransposeParams p, in ChunkPlan chunks, TMem x, TMem dz, TMem kernelPartial)
    {
        int f0 = (item % p.AllFilterBlocks) * Conv2DTransposeParams.Block;
        int rest = item / p.AllFilterBlocks;
        int tap = rest % p.KernelTaps;
        int chunk = rest / p.KernelTaps;
        int a = tap / p.KernelWidth;
        int b = tap - (a * p.KernelWidth);
        var lanes = new DepthwiseLanes(p, f0);
        int x0c = lanes.Group0 * p.XC, x1c = lanes.Group1 * p.XC, x2c = lanes.Group2 * p.XC, x3c = lanes.Group3 * p.XC;
        int d0f = lanes.Filter0 * p.YC, d1f = lanes.Filter1 * p.YC, d2f = lanes.Filter2 * p.YC, d3f = lanes.Filter3 * p.YC;

        // Input columns whose output column j*sw + b*dw - left lies in [0, OutWidth).
        int jFirst = p.FirstInputColumn(b);
        int jLast = p.LastInputColumn(b);

        float t0 = 0, t1 = 0, t2 = 0, t3 = 0;
        int rowEnd = chunks.End(chunk);
        for (int row = chunks.Start(chunk); row < rowEnd; row++)
        {
            int n = row / p.InHeight;
            int i = row - (n * p.InHeight);
            int oh = (i * p.StrideH) + (a * p.DilationH) - p.CropTop;
            if (oh < 0 || oh >= p.OutHeight)
            {
                continue;
            }

            float a0 = 0, a1 = 0, a2 = 0, a3 = 0;
            int xRow = (n * p.XN) + (i * p.XH);
            int dRow = (n * p.YN) + (oh * p.YH) + (((b * p.DilationW) - p.CropLeft) * p.YW);
            for (int j = jFirst; j <= jLast; j++)
            {
                int xo = xRow + (j * p.XW);
                int d = dRow + (j * p.StrideW * p.YW);
                a0 += dz.Load(d + d0f) * x.Load(xo + x0c);
                a1 += dz.Load(d + d1f) * x.Load(xo + x1c);
                a2 += dz.Load(d + d2f) * x.Load(xo + x2c);
                a3 += dz.Load(d + d3f) * x.Load(xo + x3c);
            }

            t0 += a0;
            t1 += a1;
            t2 += a2;
            t3 += a3;
        }

        // partial[chunk][a][b][f within the group][channel = group]
        int o = ((chunk * p.KernelTaps) + tap) * p.Filters * p.KernelChannels;
        kernelPartial.Store(o + (lanes.Local0 * p.KernelChannels) + lanes.Group0, t0);
        if (f0 + 1 < p.BiasStride)
        {
            kernelPartial.Store(o + (lanes.Local1 * p.KernelChannels) + lanes.Group1, t1);
        }

        if (f0 + 2 < p.BiasStride)
        {
            kernelPartial.Store(o + (lanes.Local2 * p.KernelChannels) + lanes.Group2, t2);
        }

        if (f0 + 3 < p.BiasStride)
        {
            kernelPartial.Store(o + (lanes.Local3 * p.KernelChannels) + lanes.Group3, t3);
        }
    }
}

/// <summary>
/// Four consecutive filters of a depthwise layer's whole output and their groups (each group's one input channel).
/// A filter past the last repeats the first lane's, so its loads stay in bounds; it is never stored.
/// </summary>
internal readonly struct DepthwiseLanes
{
    public readonly int Filter0;
    public readonly int Filter1;
    public readonly int Filter2;
    public readonly int Filter3;
    public readonly int Group0;
    public readonly int Group1;
    public readonly int Group2;
    public readonly int Group3;

    /// <summary>Each lane's filter within its group.</summary>
    public readonly int Local0;
    public readonly int Local1;
    public readonly int Local2;
    public readonly int Local3;

    public DepthwiseLanes(in Conv2DTransposeParams p, int f0)
    {
        Filter0 = f0;
        Filter1 = f0 + 1 < p.BiasStride ? f0 + 1 : f0;
        Filter2 = f0 + 2 < p.BiasStride ? f0 + 2 : f0;
        Filter3 = f0 + 3 < p.BiasStride ? f0 + 3 : f0;
        Group0 = Filter0 / p.Filters;
        Group1 = Filter1 / p.Filters;
        Group2 = Filter2 / p.Filters;
        Group3 = Filter3 / p.Filters;
        Local0 = Filter0 - (Group0 * p.Filters);
        Local1 = Filter1 - (Group1 * p.Filters);
        Local2 = Filter2 - (Group2 * p.Filters);
        Local3 = Filter3 - (Group3 * p.Filters);
    }
}
