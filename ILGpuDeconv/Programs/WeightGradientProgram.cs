namespace ILGpuDeconv.Programs;

/// <summary>
/// The weight gradients in one launch. The kernel gradient, split over chunks of input rows for parallelism:
/// <c>partial[s,a,b,f,c] = sum over (n, i) in chunk s, j of x[n,i,j,c] * dz[n, i*sh + a*dh - top, j*sw + b*dw - left, f]</c>.
/// Each item is one chunk, one tap and a 4x4 block of (filters, channels), and loops only over the input
/// columns whose output column exists; with groups, the group is one more index, next to the filter block.
/// The items after those are the bias gradient's, over all filters:
/// <c>biasPartial[s, f] = sum over output rows (n, oh) in chunk s and columns ow of dz[n, oh, ow, f]</c>.
/// <see cref="GradientFinishProgram{TMem}"/> then sums the chunks in a fixed order, so the result is bitwise
/// reproducible (no atomics); with a single chunk each, the partial sums are the gradients themselves.
/// </summary>
/// <typeparam name="TMem">The memory accessor of the accelerator.</typeparam>
/// <remarks> Describes the launch: partial sums into <paramref name="kernelPartial"/> (<c>[chunks, kh, kw, F, C]</c>) and, unless <paramref name="biasChunks"/> is empty, <paramref name="biasPartial"/> (<c>[chunks, F]</c>). </remarks>
internal readonly struct WeightGradientProgram<TMem>(in Conv2DTransposeParams p, ChunkPlan kernelChunks, ChunkPlan biasChunks, TMem x, TMem dz, TMem kernelPartial, TMem biasPartial) : IGpuProgram
    where TMem : struct, ITensorMemory
{
    private readonly Conv2DTransposeParams p = p;
    private readonly ChunkPlan kernelChunks = kernelChunks;
    private readonly ChunkPlan biasChunks = biasChunks;
    private readonly TMem x = x;
    private readonly TMem dz = dz;
    private readonly TMem kernelPartial = kernelPartial;
    private readonly TMem biasPartial = biasPartial;

    public long Items => ((long)kernelChunks.Count * p.KernelGradientItemsPerChunk) + ((long)biasChunks.Count * p.BiasStride);

    public void Execute(int item)
    {
        int kernelItems = kernelChunks.Count * p.KernelGradientItemsPerChunk;
        if (item < kernelItems)
        {
            KernelBlock(item, p, kernelChunks, x, dz, kernelPartial);
        }
        else
        {
            BiasBlock(item - kernelItems, p, biasChunks, dz, biasPartial);
        }
    }

    /// <summary>One (chunk, filter of any group) of the bias gradient: the compensated sum of dz over the chunk's output rows.</summary>
    private static void BiasBlock(int item, in Conv2DTransposeParams p, in ChunkPlan biasChunks, TMem dz, TMem biasPartial)
    {
        int f = item % p.BiasStride;
        int chunk = item / p.BiasStride;
        KahanSum total = default;
        int rowEnd = biasChunks.End(chunk);
        for (int row = biasChunks.Start(chunk); row < rowEnd; row++)
        {
            int n = row / p.OutHeight;
            int oh = row - (n * p.OutHeight);
            int o = (n * p.YN) + (oh * p.YH) + (f * p.YC);
            for (int ow = 0; ow < p.OutWidth; ow++)
            {
                total.Add(dz.Load(o + (ow * p.YW)));
            }
        }

        biasPartial.Store((chunk * p.BiasStride) + f, total.Sum);
    }

    // Static, with the tensors as parameters: on ILGPU's CPU accelerator the JIT keeps them in registers,
    // where reading them through the struct reloads them on every access.
    private static void KernelBlock(int item, in Conv2DTransposeParams p, in ChunkPlan kernelChunks, TMem x, TMem dz, TMem kernelPartial)
    {
        int rest = item;
        int channelBlock = rest % p.ChannelBlocks;
        rest /= p.ChannelBlocks;
        int filterBlock = rest % p.FilterBlocks;
        rest /= p.FilterBlocks;
        int group = rest % p.Groups;
        rest /= p.Groups;
        int tap = rest % p.KernelTaps;
        int chunk = rest / p.KernelTaps;
        int a = tap / p.KernelWidth;
        int b = tap - (a * p.KernelWidth);
        int c0 = channelBlock * Conv2DTransposeParams.Block;
        int f0 = filterBlock * Conv2DTransposeParams.Block;
        bool c1v = c0 + 1 < p.InChannels;
        bool c2v = c0 + 2 < p.InChannels;
        bool c3v = c0 + 3 < p.InChannels;
        bool f1v = f0 + 1 < p.Filters;
        bool f2v = f0 + 2 < p.Filters;
        bool f3v = f0 + 3 < p.Filters;

        // Input columns whose output column j*sw + b*dw - left lies in [0, OutWidth).
        int jFirst = p.FirstInputColumn(b);
        int jLast = p.LastInputColumn(b);

        // Each row's products are summed in registers, then added to the chunk's totals: a sum of row sums,
        // whose error grows with the rows of one chunk rather than with every product.
        float t00 = 0, t01 = 0, t02 = 0, t03 = 0;
        float t10 = 0, t11 = 0, t12 = 0, t13 = 0;
        float t20 = 0, t21 = 0, t22 = 0, t23 = 0;
        float t30 = 0, t31 = 0, t32 = 0, t33 = 0;

        int rowEnd = kernelChunks.End(chunk);
        for (int row = kernelChunks.Start(chunk); row < rowEnd; row++)
        {
            int n = row / p.InHeight;
            int i = row - (n * p.InHeight);
            int oh = (i * p.StrideH) + (a * p.DilationH) - p.CropTop;
            if (oh < 0 || oh >= p.OutHeight)
            {
                continue;
            }

            float a00 = 0, a01 = 0, a02 = 0, a03 = 0;
            float a10 = 0, a11 = 0, a12 = 0, a13 = 0;
            float a20 = 0, a21 = 0, a22 = 0, a23 = 0;
            float a30 = 0, a31 = 0, a32 = 0, a33 = 0;
            int xRow = (n * p.XN) + (group * p.InputGroupStep) + (i * p.XH) + (c0 * p.XC);
            int dRow = (n * p.YN) + (group * p.OutputGroupStep) + (oh * p.YH) + (f0 * p.YC) + (((b * p.DilationW) - p.CropLeft) * p.YW);
            for (int j = jFirst; j <= jLast; j++)
            {
                int xo = xRow + (j * p.XW);
                float x0 = x.Load(xo);
                float x1 = c1v ? x.Load(xo + p.XC) : 0f;
                float x2 = c2v ? x.Load(xo + (2 * p.XC)) : 0f;
                float x3 = c3v ? x.Load(xo + (3 * p.XC)) : 0f;
                int d = dRow + (j * p.StrideW * p.YW);
                float d0 = dz.Load(d);
                float d1 = f1v ? dz.Load(d + p.YC) : 0f;
                float d2 = f2v ? dz.Load(d + (2 * p.YC)) : 0f;
                float d3 = f3v ? dz.Load(d + (3 * p.YC)) : 0f;
                a00 += d0 * x0;
                a01 += d0 * x1;
                a02 += d0 * x2;
                a03 += d0 * x3;
                a10 += d1 * x0;
                a11 += d1 * x1;
                a12 += d1 * x2;
                a13 += d1 * x3;
                a20 += d2 * x0;
                a21 += d2 * x1;
                a22 += d2 * x2;
                a23 += d2 * x3;
                a30 += d3 * x0;
                a31 += d3 * x1;
                a32 += d3 * x2;
                a33 += d3 * x3;
            }

            t00 += a00;
            t01 += a01;
            t02 += a02;
            t03 += a03;
            t10 += a10;
            t11 += a11;
            t12 += a12;
            t13 += a13;
            t20 += a20;
            t21 += a21;
            t22 += a22;
            t23 += a23;
            t30 += a30;
            t31 += a31;
            t32 += a32;
            t33 += a33;
        }

        // partial[chunk][a][b][f][c], f within the group, c over all input channels (the group's from group * InChannels)
        int kernelElements = p.KernelTaps * p.Filters * p.KernelChannels;
        int o = (chunk * kernelElements) + (((tap * p.Filters) + f0) * p.KernelChannels) + (group * p.InChannels) + c0;
        StoreRow(kernelPartial, o, c1v, c2v, c3v, t00, t01, t02, t03);
        if (f1v)
        {
            StoreRow(kernelPartial, o + p.KernelChannels, c1v, c2v, c3v, t10, t11, t12, t13);
        }

        if (f2v)
        {
            StoreRow(kernelPartial, o + (2 * p.KernelChannels), c1v, c2v, c3v, t20, t21, t22, t23);
        }

        if (f3v)
        {
            StoreRow(kernelPartial, o + (3 * p.KernelChannels), c1v, c2v, c3v, t30, t31, t32, t33);
        }
    }

    private static void StoreRow(TMem partial, int o, bool c1v, bool c2v, bool c3v, float v0, float v1, float v2, float v3)
    {
        partial.Store(o, v0);
        if (c1v)
        {
            partial.Store(o + 1, v1);
        }

        if (c2v)
        {
            partial.Store(o + 2, v2);
        }

        if (c3v)
        {
            partial.Store(o + 3, v3);
        }
    }
}
