namespace ILGpuDeconv.Programs;

/// <summary>
/// The input gradient: <c>dx[n,i,j,c] = sum_{a,b,f} dz[n, i*sh + a*dh - top, j*sw + b*dw - left, f] * K[a,b,f,c]</c>,
/// a strided (dilated) convolution of the output gradient. Each item is one input row, four
/// consecutive input columns and four channels (a 4x4 register block); every tap it visits contributes
/// unless it falls outside the output. With groups, the group is one more index of the grid, next to the
/// channel block (depthwise layers run <see cref="DepthwiseInputGradientProgram{TMem}"/> instead). Each element is
/// written once: deterministic, no atomics.
/// </summary>
/// <typeparam name="TMem">The memory accessor of the accelerator.</typeparam>
/// <remarks>Describes the launch; <paramref name="w"/> holds the groups' <c>[kh, kw, F/G, ChannelsPadded]</c> layouts one after the other.</remarks>
internal readonly struct InputGradientProgram<TMem>(in Conv2DTransposeParams p, TMem dz, TMem w, TMem dx) : IGpuProgram
    where TMem : struct, ITensorMemory
{
    private readonly Conv2DTransposeParams p = p;
    private readonly TMem dz = dz;
    private readonly TMem w = w;
    private readonly TMem dx = dx;

    public long Items => p.InputGradientItems;

    public void Execute(int item) => Block(item, p, dz, w, dx);

    // Static, with the tensors as parameters: on ILGPU's CPU accelerator the JIT keeps them in registers,
    // where reading them through the struct reloads them on every access (measured 10 % on shape B).
    private static void Block(int item, in Conv2DTransposeParams p, TMem dz, TMem w, TMem dx)
    {
        int rest = item;
        int channelBlock = rest % p.ChannelBlocks;
        rest /= p.ChannelBlocks;
        int group = rest % p.Groups;
        rest /= p.Groups;
        int columnBlock = rest % p.InColumnBlocks;
        rest /= p.InColumnBlocks;
        int i = rest % p.InHeight;
        int n = rest / p.InHeight;
        int c0 = channelBlock * Conv2DTransposeParams.Block;
        int j0 = columnBlock * Conv2DTransposeParams.Block;

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

                int dBase = (n * p.YN) + (group * p.OutputGroupStep) + (oh * p.YH) + (columns.FirstOutputColumn * p.YW);
                int wBase = ((((group * p.KernelTaps) + (a * p.KernelWidth) + b) * p.Filters) * p.ChannelsPadded) + c0;
                for (int f = 0; f < p.Filters; f++)
                {
                    int d = dBase + (f * p.YC);
                    int wo = wBase + (f * p.ChannelsPadded);
                    float w0 = w.Load(wo);
                    float w1 = w.Load(wo + 1);
                    float w2 = w.Load(wo + 2);
                    float w3 = w.Load(wo + 3);

                    // Columns whose output is cropped away skip their products (no 0 * NaN).
                    if (columns.V0)
                    {
                        float d0 = dz.Load(d);
                        a00 += d0 * w0;
                        a01 += d0 * w1;
                        a02 += d0 * w2;
                        a03 += d0 * w3;
                    }

                    if (columns.V1)
                    {
                        float d1 = dz.Load(d + columnStep);
                        a10 += d1 * w0;
                        a11 += d1 * w1;
                        a12 += d1 * w2;
                        a13 += d1 * w3;
                    }

                    if (columns.V2)
                    {
                        float d2 = dz.Load(d + (2 * columnStep));
                        a20 += d2 * w0;
                        a21 += d2 * w1;
                        a22 += d2 * w2;
                        a23 += d2 * w3;
                    }

                    if (columns.V3)
                    {
                        float d3 = dz.Load(d + (3 * columnStep));
                        a30 += d3 * w0;
                        a31 += d3 * w1;
                        a32 += d3 * w2;
                        a33 += d3 * w3;
                    }
                }
            }
        }

        int rowBase = (n * p.XN) + (group * p.InputGroupStep) + (i * p.XH);
        StoreColumn(p, dx, rowBase, j0, c0, p.InChannels, a00, a01, a02, a03);
        StoreColumn(p, dx, rowBase, j0 + 1, c0, p.InChannels, a10, a11, a12, a13);
        StoreColumn(p, dx, rowBase, j0 + 2, c0, p.InChannels, a20, a21, a22, a23);
        StoreColumn(p, dx, rowBase, j0 + 3, c0, p.InChannels, a30, a31, a32, a33);
    }

    /// <summary>
    /// Stores four channels of input column <paramref name="j"/> (none past the input); channels from
    /// <paramref name="channels"/> on do not exist. The depthwise input-gradient program stores through it too.
    /// </summary>
    internal static void StoreColumn(in Conv2DTransposeParams p, TMem dx, int rowBase, int j, int c0, int channels, float v0, float v1, float v2, float v3)
    {
        if (j >= p.InWidth)
        {
            return;
        }

        int o = rowBase + (j * p.XW) + (c0 * p.XC);
        if (c0 < channels)
        {
            dx.Store(o, v0);
        }

        if (c0 + 1 < channels)
        {
            dx.Store(o + p.XC, v1);
        }

        if (c0 + 2 < channels)
        {
            dx.Store(o + (2 * p.XC), v2);
        }

        if (c0 + 3 < channels)
        {
            dx.Store(o + (3 * p.XC), v3);
        }
    }
}
